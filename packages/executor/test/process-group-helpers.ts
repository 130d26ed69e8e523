import { afterEach, expect } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ProcessGroup } from '../src/index.js';

// No OMPI_ALLOW_RUN_AS_ROOT here: as root (CI), ProcessGroup passes mpiexec --allow-run-as-root itself.

/** Builds fixtures/ranks.c with mpicc (Open MPI's here; `mpicc.mpich` for MPICH) into a temporary folder; `remove()` deletes it. */
export function buildRanks(mpicc = 'mpicc'): { dir: string; ranks: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'd4-pg-'));
  const ranks = join(dir, 'ranks');
  execFileSync(mpicc, ['-O1', '-o', ranks, fileURLToPath(new URL('./fixtures/ranks.c', import.meta.url))]);
  return { dir, ranks, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A pid that runs (a zombie does not: this container's pid 1 never reaps the reparented). */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return false;
  }
}

export async function collect(lines: AsyncIterable<string> | undefined): Promise<string[]> {
  const out: string[] = [];
  for await (const line of lines ?? []) out.push(line);
  return out;
}

/**
 * A start() that records every pid the group started, and an afterEach (registered here) that
 * fails the test if any still runs once it is over (no orphans), killing them.
 */
export function startChecked(): (group: ProcessGroup) => Promise<ProcessGroup> {
  const started: number[] = [];
  afterEach(() => {
    const left = started.splice(0).filter(alive);
    for (const pid of left) process.kill(pid, 'SIGKILL');
    expect(left).toEqual([]);
  });
  return async (group) => {
    await group.start();
    started.push(...group.pids());
    return group;
  };
}
