import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// No OMPI_ALLOW_RUN_AS_ROOT here: as root (CI), ProcessGroup passes mpiexec --allow-run-as-root itself.

/** Builds fixtures/ranks.c with mpicc into a temporary folder; `remove()` deletes it. */
export function buildRanks(): { dir: string; ranks: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'd4-pg-'));
  const ranks = join(dir, 'ranks');
  execFileSync('mpicc', ['-O1', '-o', ranks, fileURLToPath(new URL('./fixtures/ranks.c', import.meta.url))]);
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
