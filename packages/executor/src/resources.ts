import { resolve as resolvePath } from 'node:path';
import { ResourceError } from './errors.js';
import { nonNegativeInt, positiveInt, positiveNumber, type CallOptions, type ExecutorOptions, type Settings } from './options.js';
import { processBackend, threadBackend, type WorkerBackend, type WorkerSpec } from './backend.js';

/** Environment variables that thread-parallel native libraries read (OpenMP, OpenBLAS, MKL, Accelerate, numexpr). */
export const THREAD_ENV_VARS = ['OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS', 'VECLIB_MAXIMUM_THREADS', 'NUMEXPR_NUM_THREADS'] as const;

/** What one task needs: the worker it runs on must have these. */
export interface TaskResources {
  cores: number;
  /** GPUs (a count; ids are handed out when the worker starts). */
  gpus: number;
  threadsPerCore: number | undefined;
  cwd: string | undefined;
  timeout: number | undefined;
  maxRetries: number;
}

/** The resources of one call: the executor's, overridden by the call's, checked against the executor's limits. */
export function resourcesFor(settings: Settings, call: CallOptions | undefined, label: string): TaskResources {
  const maxRetries = call?.maxRetries !== undefined ? nonNegativeInt(call.maxRetries, 'maxRetries') : settings.maxRetries;
  const timeout = call?.timeout === undefined ? undefined : positiveNumber(call.timeout, 'timeout');
  const cores = call?.cores === undefined ? settings.coresPerWorker : positiveInt(call.cores, 'cores');
  const threadsPerCore = call?.threadsPerCore === undefined ? settings.threadsPerCore : positiveInt(call.threadsPerCore, 'threadsPerCore');
  const gpus = call?.gpusPerCore === undefined ? settings.gpusPerWorker : nonNegativeInt(call.gpusPerCore, 'gpusPerCore') * cores;
  const cwd = call?.cwd === undefined ? settings.cwd : call.cwd;
  if (settings.blockAllocation && call) {
    const differs =
      (call.cores !== undefined && cores !== settings.coresPerWorker) ||
      (call.threadsPerCore !== undefined && threadsPerCore !== settings.threadsPerCore) ||
      call.gpusPerCore !== undefined ||
      (call.cwd !== undefined && cwd !== settings.cwd);
    if (differs) {
      throw new ResourceError(
        `task ${label}: with blockAllocation the workers' cores, threads, GPUs and cwd are fixed when the executor starts (coresPerWorker ${settings.coresPerWorker}); set them on the executor, or use blockAllocation: false to give each call its own`,
      );
    }
  }
  if (cores > settings.maxCores) throw new ResourceError(`task ${label} asks for ${cores} cores, but the executor has maxCores ${settings.maxCores}; raise maxCores or ask for fewer`);
  if (settings.launcher !== 'slurm' && !settings.blockAllocation && gpus > settings.gpus.length) {
    throw new ResourceError(`task ${label} asks for ${gpus} GPUs, but the executor has ${settings.gpus.length} (gpus option or CUDA_VISIBLE_DEVICES)`);
  }
  return { cores, gpus, threadsPerCore, cwd, timeout, maxRetries };
}

/** What a worker is started with, before it is a launch: its cores, threads, GPU ids and directory. */
export interface WorkerResources {
  cores: number;
  threadsPerCore: number | undefined;
  gpus: string[];
  /** GPUs wanted; equals gpus.length unless the launcher hands GPUs out itself (srun). */
  gpuCount: number;
  cwd: string | undefined;
}

/**
 * The launch description of one worker: everything a backend needs to turn it into a thread,
 * a process, an `mpiexec` or an `srun` (environment merged, thread variables and
 * CUDA_VISIBLE_DEVICES set, cwd absolute).
 */
export function describeLaunch(id: number, resources: WorkerResources, settings: Settings, extraEnv: Record<string, string> | undefined): WorkerSpec {
  const { cores, threadsPerCore, gpus, gpuCount, cwd } = resources;
  const env: Record<string, string> = { ...(process.env as Record<string, string>), ...(extraEnv ?? {}) };
  if (threadsPerCore !== undefined) for (const name of THREAD_ENV_VARS) env[name] = String(threadsPerCore * cores);
  // A worker of an executor that manages GPUs gets its own ids, or none (empty), so it never grabs them all.
  if (settings.managesGpus || gpus.length > 0) env.CUDA_VISIBLE_DEVICES = gpus.join(',');
  return {
    id,
    env,
    cores,
    ...(cwd !== undefined ? { cwd: resolvePath(cwd) } : {}),
    ...(threadsPerCore !== undefined ? { threadsPerCore } : {}),
    gpus,
    gpuCount,
  };
}

/** 'auto' picks worker threads unless the launch needs a process of its own (cwd, thread variables, GPUs). */
export function chooseBackend(choice: ExecutorOptions<unknown>['backend'], resources: WorkerResources, settings: Settings, launched?: WorkerBackend): WorkerBackend {
  if (settings.launcher !== 'local' && launched) return launched;
  const wanted = choice ?? 'auto';
  if (typeof wanted === 'object') return wanted;
  if (wanted === 'thread') return threadBackend;
  if (wanted === 'process') return processBackend;
  return resources.threadsPerCore !== undefined || resources.cwd !== undefined || resources.gpus.length > 0 || settings.managesGpus ? processBackend : threadBackend;
}

/** The GPU ids not held by a worker. */
export class GpuPool {
  readonly #free: string[];
  constructor(ids: readonly string[]) {
    this.#free = [...ids];
  }
  get free(): number {
    return this.#free.length;
  }
  take(count: number): string[] {
    return count > 0 ? this.#free.splice(0, count) : [];
  }
  give(ids: readonly string[]): void {
    this.#free.push(...ids);
  }
}
