import { Worker } from 'node:worker_threads';
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fence, postBytes, runningTask, sharedSignals, wake, type WakeData } from './thread-signals.js';

/**
 * The pluggable part of the executor: how a worker is started, talked to and stopped.
 * The local backends are worker threads and child processes; an MPI or SLURM backend
 * implements the same interface (start a worker with an environment, send it buffers,
 * hear its buffers and its exit, stop it).
 */
export interface WorkerSpec {
  /** Executor-unique number, for messages. */
  id: number;
  /** The full environment of the worker (already merged with process.env). */
  env: Record<string, string>;
  /** Working directory; undefined = the caller's. */
  cwd?: string;
  /** Cores the worker may use (an MPI backend would start that many ranks). */
  cores: number;
  /** Threads per core, when the executor sets the thread variables (an srun backend asks for them as --cpus-per-task). */
  threadsPerCore?: number;
  /** The GPU ids this worker holds (already in env.CUDA_VISIBLE_DEVICES). */
  gpus?: string[];
  /** GPUs the worker needs; a launcher that hands GPUs out itself (srun) asks for this many. */
  gpuCount?: number;
}

export interface WorkerExit {
  code: number | null;
  signal: string | null;
  /** An uncaught error that ended the worker, when the backend knows it. */
  error?: Error;
  /** What the backend knows beyond the code (a launcher's error output, which rank went away). */
  detail?: string;
  /** The worker was retired after it answered a task with a failure (a rank threw): no task is to blame for the exit. */
  afterTaskFailure?: boolean;
  /**
   * The id of the task the worker was running when it ended, 0 when it ran none, when the
   * backend can tell (threads). Without it, the first task the worker held is blamed.
   */
  runningTask?: number;
}

export interface WorkerHandle {
  send(bytes: Uint8Array): void;
  /** Keep the caller's process alive while the worker has work (ref) or not (unref). */
  ref(): void;
  unref(): void;
  /** Ends the worker now, even in the middle of a task. */
  stop(): void;
  /**
   * Fences off the forwarded task numbered `seq` in the worker's run order (and the forwarded
   * tasks after it): true when the worker will not start it. A backend without it has its
   * worker stopped instead (see scheduling/forwarding.ts).
   */
  fence?(seq: number): boolean;
}

export interface WorkerEvents {
  message(bytes: Uint8Array): void;
  exit(info: WorkerExit): void;
}

export interface WorkerBackend {
  readonly name: string;
  /** Whether workers can have their own working directory and a process-wide environment. */
  readonly ownProcess: boolean;
  start(spec: WorkerSpec, events: WorkerEvents): WorkerHandle;
}

/** The worker script: dist/worker.js next to this module (tests run the sources, so look in dist too). */
export function workerScript(): string {
  const sibling = fileURLToPath(new URL('./worker.js', import.meta.url));
  if (existsSync(sibling)) return sibling;
  const built = fileURLToPath(new URL('../dist/worker.js', import.meta.url));
  if (existsSync(built)) return built;
  throw new Error(`@d4/executor: worker script not found at ${sibling} or ${built}; build the package (npx tsc -p tsconfig.build.json)`);
}

/**
 * Worker threads: cheapest to start and to talk to; env is per thread, cwd is the process's.
 * Each message posted also bumps the worker's wake counter, on which an idle worker waits,
 * and the worker marks there the task it runs (thread-signals.ts).
 */
export const threadBackend: WorkerBackend = {
  name: 'thread',
  ownProcess: false,
  start(spec, events) {
    const { buffer, counter } = sharedSignals();
    const workerData: WakeData = { d4Wake: buffer };
    const worker = new Worker(workerScript(), { env: spec.env, workerData });
    let error: Error | undefined;
    worker.on('message', (bytes: Uint8Array) => events.message(bytes));
    worker.on('error', (e) => {
      error = e;
    });
    worker.on('exit', (code) => events.exit({ code, signal: null, runningTask: runningTask(counter), ...(error ? { error } : {}) }));
    return {
      send: (bytes) => {
        postBytes(worker, bytes);
        wake(counter);
      },
      ref: () => worker.ref(),
      unref: () => worker.unref(),
      stop: () => {
        void worker.terminate();
      },
      fence: (seq) => fence(counter, seq),
    };
  },
};

/**
 * Child processes: their own environment (so OMP_NUM_THREADS, CUDA_VISIBLE_DEVICES reach
 * native libraries) and working directory. stdout and stderr are the caller's.
 */
export const processBackend: WorkerBackend = {
  name: 'process',
  ownProcess: true,
  start(spec, events) {
    const child: ChildProcess = fork(workerScript(), [], {
      env: spec.env,
      ...(spec.cwd ? { cwd: spec.cwd } : {}),
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let error: Error | undefined;
    let exited = false;
    child.on('message', (bytes) => events.message(bytes as Uint8Array));
    child.on('error', (e) => {
      error = e;
      // A child that could not be spawned emits 'error' without 'exit'.
      setTimeout(() => {
        if (!exited && child.exitCode === null && child.pid === undefined) {
          exited = true;
          events.exit({ code: null, signal: null, error: e });
        }
      }, 0);
    });
    child.on('exit', (code, signal) => {
      if (exited) return;
      exited = true;
      events.exit({ code, signal, ...(error ? { error } : {}) });
    });
    return {
      send: (bytes) => {
        if (child.connected) child.send(bytes);
      },
      ref: () => {
        child.ref();
        (child.channel as { ref?: () => void } | undefined)?.ref?.();
      },
      unref: () => {
        child.unref();
        (child.channel as { unref?: () => void } | undefined)?.unref?.();
      },
      stop: () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      },
    };
  },
};
