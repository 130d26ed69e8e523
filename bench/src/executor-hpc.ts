// What the executor's launchers cost, on this machine:
//   npx tsx bench/src/executor-hpc.ts [--tasks 1000] [--steps 10] [--repeat 5]
// Prints one JSON line per result:
//   - mpi_round_trip: a trivial task on a warm 2-rank worker (mpiexec, block allocation),
//     submitted and awaited one after another: ms per task (goal: < 1 ms);
//   - srun_per_worker: from a new executor (backend 'slurm', block allocation) to its first
//     result, i.e. one srun step started and connected: ms, median of --repeat;
//   - srun_per_task: without block allocation, every task its own srun step, one after another: ms per task;
//   - srun_warm_round_trip: a trivial task on a warm srun worker: ms per task;
//   the srun rows twice: outside an allocation (each srun a job) and as steps inside salloc -n 2.
// The SLURM rows start a one-node slurmctld + slurmd of their own (the test helper) and stop it.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { Executor } from '@d4/executor';
import { startSlurm } from '../../packages/executor/test/slurm-cluster.js';
import { median } from './stats.js';

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
}
const TASKS = option('tasks', 1000);
const STEPS = option('steps', 10);
const REPEAT = option('repeat', 5);

const round = (x: number, digits = 3) => Number(x.toFixed(digits));
const emit = (result: Record<string, unknown>) => console.log(JSON.stringify({ bench: 'executor-hpc', ...result }));

function increment(x: number): number {
  return x + 1;
}

/** ms per task of `count` tasks submitted and awaited one after another, after a warm-up. */
async function roundTrip(exe: Executor, count: number): Promise<number> {
  for (let i = 0; i < 100; i++) await exe.submit(increment, i);
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    const value = (await exe.submit(increment, i)) as unknown;
    if (JSON.stringify(value) !== JSON.stringify(Array.isArray(value) ? [i + 1, i + 1] : i + 1)) throw new Error(`wrong result ${JSON.stringify(value)}`);
  }
  return (performance.now() - start) / count;
}

/** srun's rows: per worker (new executor to first result, median of REPEAT), per task (no block allocation), warm round trip. */
async function srunRows(where: string): Promise<void> {
  const perWorker: number[] = [];
  for (let r = 0; r < REPEAT; r++) {
    const start = performance.now();
    await using exe = new Executor({ backend: 'slurm', maxWorkers: 1, blockAllocation: true });
    await exe.submit(increment, 1);
    perWorker.push(performance.now() - start);
  }
  emit({ workload: 'srun_per_worker', where, ms: round(median(perWorker), 1), runsMs: perWorker.map((x) => round(x, 1)) });
  {
    await using exe = new Executor({ backend: 'slurm', maxWorkers: 1 });
    await exe.submit(increment, 0);
    const start = performance.now();
    for (let i = 0; i < STEPS; i++) if ((await exe.submit(increment, i)) !== i + 1) throw new Error('wrong result');
    emit({ workload: 'srun_per_task', where, steps: STEPS, msPerTask: round((performance.now() - start) / STEPS, 1) });
  }
  {
    await using exe = new Executor({ backend: 'slurm', maxWorkers: 1, blockAllocation: true });
    emit({ workload: 'srun_warm_round_trip', where, tasks: TASKS, msPerTask: round(await roundTrip(exe, TASKS), 4) });
  }
}

// Run again by this script under salloc: the same srun rows, as job steps of one allocation.
if (process.argv.includes('--inside-allocation')) {
  await srunRows('job steps inside salloc -n 2');
  process.exit(0);
}

process.env.OMPI_ALLOW_RUN_AS_ROOT = '1';
process.env.OMPI_ALLOW_RUN_AS_ROOT_CONFIRM = '1';
{
  await using exe = new Executor({ backend: 'mpi', maxCores: 2, coresPerWorker: 2, blockAllocation: true });
  const runs: number[] = [];
  for (let r = 0; r < 3; r++) runs.push(await roundTrip(exe, TASKS));
  emit({ workload: 'mpi_round_trip', ranks: 2, tasks: TASKS, msPerTask: round(median(runs), 4), runs: runs.map((x) => round(x, 4)) });
}

const cluster = await startSlurm();
process.env.SLURM_CONF = cluster.env.SLURM_CONF;
try {
  await srunRows('outside an allocation (each srun a job)');
  const inside = spawnSync('salloc', ['-n', '2', process.execPath, ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2), '--inside-allocation'], {
    env: cluster.env,
    encoding: 'utf8',
    timeout: 120_000,
  });
  process.stdout.write(inside.stdout);
  if (inside.status !== 0) throw new Error(`the run under salloc failed (${inside.status}): ${inside.stderr.slice(-2000)}`);
} finally {
  await cluster.stop();
}
