import { hostname } from 'node:os';
import { delimiter, join } from 'node:path';
import { accessSync, constants } from 'node:fs';
import type { WorkerSpec } from '../backend.js';
import type { Launcher } from './launched-backend.js';

/** Whether `program` is an executable file in a PATH directory. */
export function onPath(program: string, path = process.env.PATH ?? ''): boolean {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, program), constants.X_OK);
      return true;
    } catch {
      // not here
    }
  }
  return false;
}

/** Inside a SLURM allocation with srun at hand (pympipool looks at the same two things). */
export function underSlurm(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.SLURM_JOB_ID !== undefined && env.SLURM_JOB_ID !== '' && onPath('srun', env.PATH);
}

/**
 * The address workers on other nodes reach the executor at: this host's name when the
 * allocation spans nodes, else the loopback address, so that nothing listens beyond this
 * machine when it does not have to.
 */
export function defaultListenHost(env: NodeJS.ProcessEnv = process.env): string {
  return Number(env.SLURM_JOB_NUM_NODES ?? env.SLURM_NNODES ?? '1') > 1 ? hostname() : '127.0.0.1';
}

/**
 * One `srun` job step per worker: cores → `-n` (MPI ranks, joined by `--mpi=pmix` when more
 * than one), threadsPerCore → `--cpus-per-task`, GPUs → `--gpus` (SLURM hands them out and
 * sets CUDA_VISIBLE_DEVICES), cwd → `--chdir`; `slurmArgs` come last, so the user's
 * flags win.
 */
export function srunLauncher(slurmArgs: readonly string[]): Launcher {
  return {
    name: 'slurm',
    rankVariable: 'SLURM_PROCID',
    command(spec: WorkerSpec, ranks: number, worker: string[]) {
      const args = [`--ntasks=${ranks}`, `--cpus-per-task=${spec.threadsPerCore ?? 1}`, '--kill-on-bad-exit=1', `--job-name=d4-worker-${spec.id}`];
      // Inside an allocation steps share it: each takes only what it asked for, so workers run side by side.
      if (process.env.SLURM_JOB_ID) args.push('--exact');
      if (ranks > 1) args.push('--mpi=pmix');
      const gpus = spec.gpuCount ?? 0;
      // --gpus for the whole step, not --gpus-per-task: inside an allocation, steps with
      // --gpus-per-task wait for each other on Slurm 22.05 (measured here), steps with --gpus do not.
      if (gpus > 0) args.push(`--gpus=${gpus}`);
      if (spec.cwd) args.push(`--chdir=${spec.cwd}`);
      args.push(...slurmArgs, ...worker);
      return { file: 'srun', args };
    },
  };
}

/**
 * Open MPI's mpiexec refuses to start as root unless told (containers and CI run as root);
 * the user asked for ranks, so d4 tells it, as the mpi mapping does.
 */
export function rootArgs(given: readonly string[] = []): string[] {
  return typeof process.getuid === 'function' && process.getuid() === 0 && !given.includes('--allow-run-as-root') ? ['--allow-run-as-root'] : [];
}

/** Open MPI's `mpiexec` on this machine: cores → `-n`, `--oversubscribe` on request, run as root allowed. */
export function mpiexecLauncher(oversubscribe: boolean): Launcher {
  return {
    name: 'mpi',
    rankVariable: 'OMPI_COMM_WORLD_RANK',
    command(spec: WorkerSpec, ranks: number, worker: string[]) {
      const args = [...rootArgs(), '-n', String(ranks), ...(oversubscribe ? ['--oversubscribe'] : []), ...worker];
      return { file: 'mpiexec', args };
    },
  };
}
