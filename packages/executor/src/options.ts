import { availableParallelism } from 'node:os';
import { OptionError } from '@d4/core';
import type { TaskRef } from './functions.js';
import type { WorkerBackend } from './backend.js';
import { underSlurm } from './launch/slurm.js';

export interface ExecutorOptions<I = undefined> {
  /** Workers at a time. Default: maxCores / coresPerWorker, else the machine's available parallelism. */
  maxWorkers?: number;
  /** Cores the executor may use at once. Default: maxWorkers × coresPerWorker. */
  maxCores?: number;
  /** Cores each worker (and each task, unless the call says otherwise) takes. Default 1. */
  coresPerWorker?: number;
  /** Sets OMP_NUM_THREADS & co. to threadsPerCore × cores in each worker. Default: not set (inherited). */
  threadsPerCore?: number;
  /** GPUs per worker, taken from `gpus`; sets CUDA_VISIBLE_DEVICES per worker. Default 0. */
  gpusPerWorker?: number;
  /** The GPU ids to hand out. Default: CUDA_VISIBLE_DEVICES of this process, split at commas. */
  gpus?: (string | number)[];
  /** Working directory of the workers (needs the process backend). */
  cwd?: string;
  /** Extra environment variables for every worker. */
  env?: Record<string, string>;
  /** Keep a fixed set of workers and send them task after task (pympipool's block_allocation). Default false: a fresh worker per task. */
  blockAllocation?: boolean;
  /** Runs once per worker (block allocation only); its result's keys are handed to each task by name (see README). */
  init?: (() => I | Promise<I>) | TaskRef<() => I | Promise<I>>;
  /** Do not look for futures in arguments. */
  disableDependencies?: boolean;
  /** Store results here, keyed by function and arguments, and reuse them. */
  cacheDirectory?: string;
  /**
   * 'thread', 'process', 'slurm' (one srun step per worker; cores are ranks), 'mpi' (cores are
   * MPI ranks: mpiexec here, srun --mpi=pmix inside a SLURM allocation), a WorkerBackend, or
   * 'auto' (default): 'slurm' inside a SLURM allocation with srun on PATH, else threads unless
   * cwd, threadsPerCore or GPUs need a process of its own. 'flux' is refused (not available here).
   */
  backend?: 'auto' | 'thread' | 'process' | 'slurm' | 'mpi' | 'flux' | WorkerBackend;
  /** Extra srun flags for every worker (pympipool's command_line_argument_lst), after d4's own. */
  slurmArgs?: string[];
  /** mpiexec --oversubscribe: more ranks than cores (pympipool's oversubscribe). */
  oversubscribe?: boolean;
  /** The address srun/mpiexec workers connect back to. Default: this host's name when the SLURM allocation spans nodes, else 127.0.0.1. */
  listenHost?: string;
  /** How often a task whose worker crashed is run again before its future fails. Default 0. */
  maxRetries?: number;
  /** Keep the dependency graph of submitted tasks for dependencyGraph()/dependencyGraphDot(). Default false. */
  recordGraph?: boolean;
}

/** Per-call resources (pympipool's resource_dict). */
export interface CallOptions {
  cores?: number;
  threadsPerCore?: number;
  gpusPerCore?: number;
  cwd?: string;
  /** Milliseconds the task may run; then its worker is stopped and replaced, and the future fails with D4_TASK_TIMEOUT. */
  timeout?: number;
  /** Overrides the executor's maxRetries for this call. */
  maxRetries?: number;
}

/** The executor-wide numbers, checked and with their defaults filled in. */
export interface Settings {
  maxWorkers: number;
  maxCores: number;
  coresPerWorker: number;
  blockAllocation: boolean;
  threadsPerCore: number | undefined;
  gpusPerWorker: number;
  /** Every GPU id the executor may hand out. */
  gpus: string[];
  /** Whether workers get CUDA_VISIBLE_DEVICES set (see resources.ts). */
  managesGpus: boolean;
  cwd: string | undefined;
  maxRetries: number;
  /** Who starts workers: this process ('local': threads, processes, a custom backend), srun, or mpiexec. */
  launcher: 'local' | 'slurm' | 'mpi';
}

/**
 * Which launcher a backend option means. 'auto' looks for a SLURM allocation, else takes
 * workers of several cores (`coresPerWorker` > 1) as MPI ranks, as pympipool does:
 * `new Executor({ maxCores: 2, coresPerWorker: 2 })` runs each task on 2 ranks.
 */
export function resolveLauncher(backend: ExecutorOptions<unknown>['backend'], env: NodeJS.ProcessEnv = process.env, coresPerWorker = 1): Settings['launcher'] {
  if (backend === 'flux') {
    throw new OptionError(
      `backend 'flux' is not supported: flux is not packaged for the systems d4 is tested on, so d4 has no flux launcher; use 'slurm' (srun), 'mpi' (mpiexec) or a WorkerBackend of your own`,
      'D4_EXECUTOR_OPTION',
    );
  }
  if (backend === 'slurm') return 'slurm';
  if (backend === 'mpi') return underSlurm(env) ? 'slurm' : 'mpi';
  if (backend === undefined || backend === 'auto') return underSlurm(env) ? 'slurm' : coresPerWorker > 1 ? 'mpi' : 'local';
  if (typeof backend === 'object' || backend === 'thread' || backend === 'process') return 'local';
  throw new OptionError(`backend must be 'auto', 'thread', 'process', 'slurm', 'mpi' or a WorkerBackend, got ${String(backend)}`, 'D4_EXECUTOR_OPTION');
}

/** Checks the options that do not depend on a call, and works out the defaults. */
export function resolveSettings(options: ExecutorOptions<unknown>): Settings {
  const launcher = resolveLauncher(options.backend, process.env, typeof options.coresPerWorker === 'number' ? options.coresPerWorker : 1);
  if (options.slurmArgs !== undefined && (!Array.isArray(options.slurmArgs) || options.slurmArgs.some((a) => typeof a !== 'string'))) {
    throw new OptionError(`slurmArgs must be an array of strings (srun flags such as ['--constraint=fast']), got ${JSON.stringify(options.slurmArgs)}`, 'D4_EXECUTOR_OPTION');
  }
  const coresPerWorker = positiveInt(options.coresPerWorker, 'coresPerWorker', 1);
  let maxWorkers = options.maxWorkers === undefined ? undefined : positiveInt(options.maxWorkers, 'maxWorkers', 1);
  let maxCores = options.maxCores === undefined ? undefined : positiveInt(options.maxCores, 'maxCores', 1);
  if (maxWorkers === undefined) maxWorkers = maxCores !== undefined ? Math.max(1, Math.floor(maxCores / coresPerWorker)) : availableParallelism();
  if (maxCores === undefined) maxCores = maxWorkers * coresPerWorker;
  if (coresPerWorker > maxCores) throw new OptionError(`coresPerWorker (${coresPerWorker}) is more than maxCores (${maxCores}); raise maxCores or lower coresPerWorker`, 'D4_EXECUTOR_OPTION');
  const blockAllocation = options.blockAllocation ?? false;
  // With block allocation every worker holds coresPerWorker cores for its whole life.
  if (blockAllocation) maxWorkers = Math.max(1, Math.min(maxWorkers, Math.floor(maxCores / coresPerWorker)));
  const threadsPerCore = options.threadsPerCore === undefined ? undefined : positiveInt(options.threadsPerCore, 'threadsPerCore', 1);
  const gpusPerWorker = options.gpusPerWorker === undefined ? 0 : nonNegativeInt(options.gpusPerWorker, 'gpusPerWorker');
  // srun hands GPUs out itself (--gpus-per-task) and sets CUDA_VISIBLE_DEVICES: there are no ids to count here.
  const gpus = launcher === 'slurm' ? [] : (options.gpus ?? (process.env.CUDA_VISIBLE_DEVICES ? process.env.CUDA_VISIBLE_DEVICES.split(',') : [])).map(String).filter((g) => g !== '');
  if (launcher === 'slurm') {
    // nothing to check: SLURM refuses a step that asks for more GPUs than the allocation has
  } else if (blockAllocation && gpusPerWorker * maxWorkers > gpus.length) {
    throw new OptionError(
      `gpusPerWorker ${gpusPerWorker} × ${maxWorkers} workers needs ${gpusPerWorker * maxWorkers} GPUs, but ${gpus.length} are given (gpus option or CUDA_VISIBLE_DEVICES); give more GPUs or fewer workers`,
      'D4_EXECUTOR_OPTION',
    );
  }
  if (launcher !== 'slurm' && !blockAllocation && gpusPerWorker > gpus.length) {
    throw new OptionError(`gpusPerWorker is ${gpusPerWorker}, but ${gpus.length} GPUs are given (gpus option or CUDA_VISIBLE_DEVICES)`, 'D4_EXECUTOR_OPTION');
  }
  if (options.init !== undefined && !blockAllocation) {
    throw new OptionError('init runs once per worker, so it needs blockAllocation: true (without it every task gets a fresh worker)', 'D4_EXECUTOR_OPTION');
  }
  if (options.backend === 'thread' && options.cwd !== undefined) {
    throw new OptionError(`cwd needs workers with a directory of their own: use backend 'process' (or 'auto'); worker threads share this process's directory`, 'D4_EXECUTOR_OPTION');
  }
  const maxRetries = options.maxRetries === undefined ? 0 : nonNegativeInt(options.maxRetries, 'maxRetries');
  return {
    maxWorkers,
    maxCores,
    coresPerWorker,
    blockAllocation,
    threadsPerCore,
    gpusPerWorker,
    gpus,
    // GPUs are handed out only when the executor was told about them (see resources.ts).
    managesGpus: launcher !== 'slurm' && (options.gpus !== undefined || gpusPerWorker > 0),
    cwd: options.cwd,
    maxRetries,
    launcher,
  };
}

export function positiveInt(value: number | undefined, name: string, fallback?: number): number {
  if (value === undefined && fallback !== undefined) return fallback;
  if (!Number.isInteger(value) || (value as number) < 1) throw new OptionError(`${name} must be a whole number ≥ 1, got ${String(value)}`, 'D4_EXECUTOR_OPTION');
  return value as number;
}

export function nonNegativeInt(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 0) throw new OptionError(`${name} must be a whole number ≥ 0, got ${String(value)}`, 'D4_EXECUTOR_OPTION');
  return value;
}

export function positiveNumber(value: number, name: string): number {
  if (typeof value !== 'number' || !(value > 0)) throw new OptionError(`${name} must be a number of milliseconds > 0, got ${String(value)}`, 'D4_EXECUTOR_OPTION');
  return value;
}
