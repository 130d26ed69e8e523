// Builds alltoall.c with mpicc once (into the temporary directory, keyed by the source's
// hash, so an edit rebuilds it) and says how to run it.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function buildAlltoall(): string {
  const source = fileURLToPath(new URL('./alltoall.c', import.meta.url));
  const hash = createHash('sha256').update(readFileSync(source)).digest('hex').slice(0, 12);
  const binary = join(tmpdir(), `d4-dragon-alltoall-${hash}`);
  if (!existsSync(binary)) {
    // Built beside and renamed, so two examples building at once never run half a file.
    const partial = `${binary}.${process.pid}`;
    execFileSync('mpicc', ['-O2', '-o', partial, source], { stdio: 'inherit' });
    renameSync(partial, binary);
  }
  return binary;
}

/** The benchmark's arguments, as seed 004 runs osu_alltoall (fewer iterations: this is a demo). */
export const ALLTOALL_ARGS = ['--warmup', '10', '-m', '4096', '-i', '50'];

/** The message sizes it prints, 1 to 4096 bytes. */
export const SIZES = Array.from({ length: 13 }, (_, i) => 2 ** i);

/**
 * mpiexec's arguments here: more ranks than cores (this demo runs two jobs at once on a small
 * machine), and Open MPI refuses to run as root without being told (containers, CI).
 */
export function mpiexecArgs(): string[] {
  return ['--oversubscribe', ...(process.getuid?.() === 0 ? ['--allow-run-as-root'] : [])];
}

/** The parser's rule: a data line is "<size> <latency>"; comments and anything else are skipped. */
export function parseLine(line: string): { size: number; latency: number } | undefined {
  const match = /^(\d+)\s+([\d.]+)/.exec(line);
  return match ? { size: Number(match[1]), latency: Number(match[2]) } : undefined;
}
