import { hostname } from 'node:os';
import { delimiter, join } from 'node:path';
import { accessSync, constants } from 'node:fs';
import type { WorkerSpec } from '../backend.js';
import type { Launcher } from './launched-backend.js';
import { mpichLauncher, type MpiImpl } from './mpi-build.js';

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
    command(spec: WorkerSpec, ranks: number, worker: string[], mpi: MpiImpl) {
      const args = [`--ntasks=${ranks}`, `--cpus-per-task=${spec.threadsPerCore ?? 1}`, '--kill-on-bad-exit=1', `--job-name=d4-worker-${spec.id}`];
      // Inside an allocation steps share it: each takes only what it asked for, so workers run side by side.
      if (process.env.SLURM_JOB_ID) args.push('--exact');
      // Open MPI's ranks join through PMIx (PMI-2 does not work with it here); MPICH's start
      // as singletons under PMIx and join through Slurm's PMI-2 (both probed here).
      if (ranks > 1) args.push(mpi === 'mpich' ? '--mpi=pmi2' : '--mpi=pmix');
      const gpus = spec.gpuCount ?? 0;
      // --gpus for the whole step, not --gpus-per-task: inside an allocation, steps with
      // --gpus-per-task wait for each other on Slurm 22.05 (measured here), steps with --gpus do not.
      if (gpus > 0) args.push(`--gpus=${gpus}`);
      if (spec.cwd) args.push(`--chdir=${spec.cwd}`);
      args.push(...slurmArgs, ...worker);
      return { file: 'srun', args, rankVariable: 'SLURM_PROCID' };
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

/**
 * The mpiexec of the ranks' MPI: Open MPI's (cores → `-n`, `--oversubscribe` on request, run
 * as root allowed), or for an MPICH build MPICH's (Hydra runs any number of ranks on a host
 * and as root, and passes the environment on by itself).
 */
export function mpiexecLauncher(oversubscribe: boolean): Launcher {
  return {
    name: 'mpi',
    command(spec: WorkerSpec, ranks: number, worker: string[], mpi: MpiImpl) {
      if (mpi === 'mpich') return { file: mpichLauncher(), args: ['-n', String(ranks), ...worker], rankVariable: 'PMI_RANK' };
      const args = [...rootArgs(), '-n', String(ranks), ...(oversubscribe ? ['--oversubscribe'] : []), ...worker];
      return { file: 'mpiexec', args, rankVariable: 'OMPI_COMM_WORLD_RANK' };
    },
  };
}
