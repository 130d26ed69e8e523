// The raw C ping-pong (mpi-pingpong-baseline.c, blocking MPI_Send/MPI_Recv) run right
// after the JavaScript one, so that each row shows what the machine allowed at that
// moment beside what @d4/mpi got. Rank 0 calls it once MPI is finalised: it compiles the
// baseline with mpicc (once per version of the file) and starts its own mpiexec, with the
// outer job's OMPI_/PMIX_ variables removed so the inner one is a job of its own.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SOURCE = fileURLToPath(new URL('./mpi-pingpong-baseline.c', import.meta.url));

/** Round trip in microseconds by message size, or why the baseline could not run. */
export type Baseline = { ok: true; roundTripUs: Map<number, number> } | { ok: false; why: string };

export function runCBaseline(): Baseline {
  const binary = join(tmpdir(), `d4-mpi-pingpong-${Math.round(statSync(SOURCE).mtimeMs)}`);
  if (!existsSync(binary)) {
    const built = spawnSync('mpicc', ['-O2', '-o', binary, SOURCE], { encoding: 'utf8' });
    if (built.status !== 0) return { ok: false, why: `mpicc failed: ${built.error?.message ?? built.stderr.trim()}` };
  }
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^(OMPI_|PMIX_|OPAL_|ORTE_|PMI_)/.test(key)));
  const root = typeof process.getuid === 'function' && process.getuid() === 0 ? ['--allow-run-as-root'] : [];
  const run = spawnSync('mpiexec', [...root, '-n', '2', '--bind-to', 'none', binary], { env, encoding: 'utf8', timeout: 120_000 });
  if (run.status !== 0) return { ok: false, why: `mpiexec of the C baseline exited ${run.status ?? run.signal}: ${run.stderr.trim().slice(0, 300)}` };
  const roundTripUs = new Map<number, number>();
  for (const match of run.stdout.matchAll(/^C (\d+) B: ([\d.]+) us$/gm)) roundTripUs.set(Number(match[1]), Number(match[2]));
  return { ok: true, roundTripUs };
}
