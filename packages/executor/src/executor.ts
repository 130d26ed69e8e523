import { availableParallelism } from 'node:os';
import { resolve as resolvePath } from 'node:path';
import { encode, decode, CodecError, OptionError, WorkerError, isD4ErrorCode } from '@d4/core';
import { Future } from './future.js';
import {
  CancelledError,
  DependencyError,
  ExecutorShutdownError,
  InitError,
  RemoteError,
  ResourceError,
  TaskError,
  TaskFunctionError,
  TaskTimeoutError,
  WorkerCrashedError,
} from './errors.js';
import { describeFunction, type AnyFunction, type FunctionInfo, type TaskRef } from './functions.js';
import { collectFutures, replaceFutures } from './dependencies.js';
import { ResultCache } from './cache.js';
import { processBackend, threadBackend, type WorkerBackend, type WorkerExit, type WorkerHandle } from './backend.js';
import { M_INIT, M_TASKS, W_INIT_FAILED, W_RESULTS, W_STARTED, F_CHUNK, F_TIMED, type ErrorInfo, type FnSpec, type WireTask } from './protocol.js';
import { DependencyGraph, type DependencyGraphJSON } from './graph.js';
import { mapTasks, type MapOptions } from './map.js';

/** Environment variables that thread-parallel native libraries read (OpenMP, OpenBLAS, MKL, Accelerate, numexpr). */
export const THREAD_ENV_VARS = ['OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS', 'VECLIB_MAXIMUM_THREADS', 'NUMEXPR_NUM_THREADS'] as const;

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
  /** 'thread', 'process', a WorkerBackend, or 'auto' (default): threads unless cwd, threadsPerCore or GPUs need a process of its own. */
  backend?: 'auto' | 'thread' | 'process' | WorkerBackend;
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

/** An argument may be given as a value, or as a future of it (also nested). */
export type Awaitable<T> = T | Future<T> | (T extends readonly unknown[] ? { [K in keyof T]: Awaitable<T[K]> } : T extends object ? { [K in keyof T]: Awaitable<T[K]> } : never);
type AwaitableArgs<P extends readonly unknown[]> = { [K in keyof P]: Awaitable<P[K]> };
/** With an init function, the keys it provides may be left out of the last (named-values) parameter. */
type WithInit<L, I> = Omit<L, Extract<keyof I, keyof L>> & Partial<Pick<L, Extract<keyof I, keyof L>>>;
export type SubmitArgs<P extends readonly unknown[], I> = [I] extends [undefined]
  ? AwaitableArgs<P>
  : P extends readonly [...infer H, infer L]
    ? AwaitableArgs<H> | [...AwaitableArgs<H>, Awaitable<WithInit<L, I>>]
    : AwaitableArgs<P>;
type FnOf<F> = F extends TaskRef<infer G> ? G : F extends AnyFunction ? F : never;
type ResultOf<F> = Awaited<ReturnType<FnOf<F>>>;

interface Task {
  future: Future<unknown>;
  fn: FunctionInfo;
  args: unknown[];
  chunk: boolean;
  cores: number;
  gpus: number;
  threadsPerCore: number | undefined;
  cwd: string | undefined;
  timeout: number | undefined;
  maxRetries: number;
  attempts: number;
  state: 'waiting' | 'caching' | 'queued' | 'running' | 'done';
  slot: Slot | undefined;
  timer: NodeJS.Timeout | undefined;
  cacheKey: string | undefined;
}

interface Slot {
  id: number;
  handle: WorkerHandle;
  backend: WorkerBackend;
  /** Tasks sent and not answered, in the order the worker runs them. */
  inflight: Task[];
  /** Measured execution time per task (ms), to decide how many tasks to queue in the worker. */
  avgMs: number | undefined;
  sentKeys: Set<number>;
  cores: number;
  gpus: string[];
  stopped: boolean;
  referenced: boolean;
  /** Block allocation: index in the worker table. */
  index: number;
}

const MAX_TASKS_PER_MESSAGE = 256;
const MAX_QUEUED_IN_WORKER = 512;
/** Queue enough tasks in a worker to cover about this much work, so messages never leave it idle. */
const TARGET_QUEUED_MS = 2;

/**
 * A futures executor in the manner of pympipool: submit functions, get futures; futures can
 * be arguments of other calls; workers are threads or processes with cores, threads and GPUs
 * assigned. See the package README for the full story.
 */
export class Executor<I = undefined> implements AsyncDisposable {
  readonly maxWorkers: number;
  readonly maxCores: number;
  readonly coresPerWorker: number;
  readonly blockAllocation: boolean;
  readonly #options: ExecutorOptions<I>;
  readonly #threadsPerCore: number | undefined;
  readonly #gpusPerWorker: number;
  readonly #freeGpus: string[];
  readonly #allGpus: string[];
  readonly #cache: ResultCache | undefined;
  readonly #graph: DependencyGraph | undefined;
  readonly #functions = new WeakMap<object, FunctionInfo>();
  #nextFunctionKey = 1;
  #nextSlotId = 1;
  #initInfo: FunctionInfo | undefined;

  #queue: Task[] = [];
  #queueHead = 0;
  #flushScheduled = false;
  /** Block allocation: the fixed table of workers (undefined = not started yet, or being replaced). */
  #workers: (Slot | undefined)[] = [];
  /** Without block allocation: one worker per running task. */
  #taskSlots = new Set<Slot>();
  #usedCores = 0;
  /** Tasks waiting for their argument futures or for the cache. */
  #waiting = new Set<Task>();
  #unfinished = 0;
  #idleWaiters: (() => void)[] = [];
  #closed = false;
  #shutdownDone: Promise<void> | undefined;
  #broken: InitError | undefined;

  constructor(options: ExecutorOptions<I> = {}) {
    this.#options = options;
    const coresPerWorker = positiveInt(options.coresPerWorker, 'coresPerWorker', 1);
    let maxWorkers = options.maxWorkers === undefined ? undefined : positiveInt(options.maxWorkers, 'maxWorkers', 1);
    let maxCores = options.maxCores === undefined ? undefined : positiveInt(options.maxCores, 'maxCores', 1);
    if (maxWorkers === undefined) maxWorkers = maxCores !== undefined ? Math.max(1, Math.floor(maxCores / coresPerWorker)) : availableParallelism();
    if (maxCores === undefined) maxCores = maxWorkers * coresPerWorker;
    if (coresPerWorker > maxCores) throw new OptionError(`coresPerWorker (${coresPerWorker}) is more than maxCores (${maxCores}); raise maxCores or lower coresPerWorker`, 'D4_EXECUTOR_OPTION');
    this.coresPerWorker = coresPerWorker;
    this.maxCores = maxCores;
    this.blockAllocation = options.blockAllocation ?? false;
    // With block allocation every worker holds coresPerWorker cores for its whole life.
    this.maxWorkers = this.blockAllocation ? Math.max(1, Math.min(maxWorkers, Math.floor(maxCores / coresPerWorker))) : maxWorkers;
    this.#threadsPerCore = options.threadsPerCore === undefined ? undefined : positiveInt(options.threadsPerCore, 'threadsPerCore', 1);
    this.#gpusPerWorker = options.gpusPerWorker === undefined ? 0 : nonNegativeInt(options.gpusPerWorker, 'gpusPerWorker');
    this.#allGpus = (options.gpus ?? (process.env.CUDA_VISIBLE_DEVICES ? process.env.CUDA_VISIBLE_DEVICES.split(',') : [])).map(String).filter((g) => g !== '');
    this.#freeGpus = [...this.#allGpus];
    if (this.blockAllocation && this.#gpusPerWorker * this.maxWorkers > this.#allGpus.length) {
      throw new OptionError(
        `gpusPerWorker ${this.#gpusPerWorker} × ${this.maxWorkers} workers needs ${this.#gpusPerWorker * this.maxWorkers} GPUs, but ${this.#allGpus.length} are given (gpus option or CUDA_VISIBLE_DEVICES); give more GPUs or fewer workers`,
        'D4_EXECUTOR_OPTION',
      );
    }
    if (!this.blockAllocation && this.#gpusPerWorker > this.#allGpus.length) {
      throw new OptionError(`gpusPerWorker is ${this.#gpusPerWorker}, but ${this.#allGpus.length} GPUs are given (gpus option or CUDA_VISIBLE_DEVICES)`, 'D4_EXECUTOR_OPTION');
    }
    if (options.init !== undefined && !this.blockAllocation) {
      throw new OptionError('init runs once per worker, so it needs blockAllocation: true (without it every task gets a fresh worker)', 'D4_EXECUTOR_OPTION');
    }
    if (options.backend === 'thread' && options.cwd !== undefined) {
      throw new OptionError(`cwd needs workers with a directory of their own: use backend 'process' (or 'auto'); worker threads share this process's directory`, 'D4_EXECUTOR_OPTION');
    }
    if (options.maxRetries !== undefined) nonNegativeInt(options.maxRetries, 'maxRetries');
    if (options.init !== undefined) {
      this.#initInfo = describeFunction(options.init as AnyFunction, 0);
      if (this.#initInfo.error) throw this.#initInfo.error;
    }
    this.#cache = options.cacheDirectory ? new ResultCache(resolvePath(options.cacheDirectory)) : undefined;
    this.#graph = options.recordGraph ? new DependencyGraph() : undefined;
    this.#workers = new Array(this.blockAllocation ? this.maxWorkers : 0).fill(undefined);
  }

  /** Runs `fn(...args)` in a worker. Futures among the arguments (also nested) are waited for and replaced by their values. */
  submit<F extends AnyFunction | TaskRef>(fn: F, ...args: SubmitArgs<Parameters<FnOf<F>>, I>): Future<ResultOf<F>> {
    return this.#submit(fn, args as unknown[], undefined, false) as Future<ResultOf<F>>;
  }

  /** `submit` with per-call resources and a timeout: `exe.submitWith({ cores: 2, timeout: 5000 }, fn, a, b)`. */
  submitWith<F extends AnyFunction | TaskRef>(resources: CallOptions, fn: F, ...args: SubmitArgs<Parameters<FnOf<F>>, I>): Future<ResultOf<F>> {
    return this.#submit(fn, args as unknown[], resources, false) as Future<ResultOf<F>>;
  }

  /**
   * Applies `fn` to the items of one or more (async) iterables, zipped, as Dragon's
   * `Pool.imap`: it pulls the source lazily, keeps at most `inFlight` chunks submitted and not
   * yet consumed, and yields results (in input order unless `ordered: false`).
   */
  map<A, R>(fn: ((a: A) => R) | TaskRef<(a: A) => R>, source: Iterable<A> | AsyncIterable<A>, options?: MapOptions): AsyncGenerator<Awaited<R>, void, undefined>;
  map<A, B, R>(fn: ((a: A, b: B) => R) | TaskRef<(a: A, b: B) => R>, a: Iterable<A> | AsyncIterable<A>, b: Iterable<B> | AsyncIterable<B>, options?: MapOptions): AsyncGenerator<Awaited<R>, void, undefined>;
  map<R>(fn: AnyFunction | TaskRef, ...sources: (Iterable<unknown> | AsyncIterable<unknown> | MapOptions | undefined)[]): AsyncGenerator<Awaited<R>, void, undefined>;
  map(fn: AnyFunction | TaskRef, ...rest: unknown[]): AsyncGenerator<unknown, void, undefined> {
    if (this.#closed) throw this.#shutdownError();
    const last = rest[rest.length - 1];
    const hasOptions = rest.length > 0 && (last === undefined || !isIterable(last));
    const options = (hasOptions ? last : undefined) as MapOptions | undefined;
    const sources = (hasOptions ? rest.slice(0, -1) : rest) as (Iterable<unknown> | AsyncIterable<unknown>)[];
    if (sources.length === 0) throw new OptionError('map() needs at least one iterable of arguments', 'D4_EXECUTOR_OPTION');
    for (const [i, s] of sources.entries()) {
      if (!isIterable(s)) throw new OptionError(`map(): argument ${i + 2} is not an iterable or async iterable`, 'D4_EXECUTOR_OPTION');
    }
    const callOptions: CallOptions | undefined = options?.timeout !== undefined ? { timeout: options.timeout } : undefined;
    return mapTasks(
      {
        submitOne: (args) => this.#submit(fn, args, callOptions, false),
        submitChunk: (argLists) => this.#submit(fn, argLists, callOptions, true) as Future<unknown[]>,
        defaultInFlight: 2 * this.maxWorkers,
      },
      sources,
      options ?? {},
    );
  }

  /**
   * Stops taking tasks. `wait` (default true): resolves once every submitted task is done and
   * the workers are gone. `cancelFutures`: cancels the tasks that have not started. Calling it
   * again is harmless.
   */
  shutdown(options: { wait?: boolean; cancelFutures?: boolean } = {}): Promise<void> {
    this.#closed = true;
    if (options.cancelFutures) {
      for (const task of this.#pendingTasks()) {
        task.future._cancel(new CancelledError(`task #${task.future.id} (${task.fn.label}) was cancelled by shutdown({ cancelFutures: true })`));
      }
    }
    this.#shutdownDone ??= (async () => {
      await this.#whenIdle();
      await this.#cache?.flush();
      for (const slot of this.#workers) if (slot) this.#stopSlot(slot);
      for (const slot of this.#taskSlots) this.#stopSlot(slot);
    })();
    return options.wait === false ? Promise.resolve() : this.#shutdownDone;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown({ wait: true });
  }

  /** The tasks submitted with recordGraph: true, and which future fed which task. */
  dependencyGraph(): DependencyGraphJSON {
    return this.#requireGraph().toJSON();
  }

  /** The same graph in Graphviz DOT (pympipool's plot_dependency_graph). */
  dependencyGraphDot(): string {
    return this.#requireGraph().toDot();
  }

  /**
   * GPUs are handed out (and CUDA_VISIBLE_DEVICES set, empty for a worker without any) only when
   * the executor was told about them: `gpus` given or `gpusPerWorker` > 0. Otherwise workers
   * inherit the environment unchanged, even on a GPU node.
   */
  get #managesGpus(): boolean {
    return this.#options.gpus !== undefined || this.#gpusPerWorker > 0;
  }

  /** Tasks submitted and not yet done. */
  get pending(): number {
    return this.#unfinished;
  }

  // ---------------------------------------------------------------- submission

  #submit(fn: AnyFunction | TaskRef, args: unknown[], call: CallOptions | undefined, chunk: boolean): Future<unknown> {
    if (this.#closed) throw this.#shutdownError();
    const info = this.#functionInfo(fn);
    const resources = this.#resourcesFor(call, info.label);
    const future = new Future<unknown>(info.label);
    const task: Task = {
      future,
      fn: info,
      args,
      chunk,
      ...resources,
      attempts: 0,
      state: 'waiting',
      slot: undefined,
      timer: undefined,
      cacheKey: undefined,
    };
    const deps = collectFutures(args);
    this.#graph?.add(future, this.#options.disableDependencies ? [] : deps);
    this.#unfinished++;
    future.addDoneCallback(() => this.#onTaskDone(task));
    future._canceller = () => this.#cancel(task);
    if (info.error) {
      future._reject(info.error);
      return future;
    }
    if (this.#broken) {
      future._reject(this.#broken);
      return future;
    }
    if (deps.length > 0 && this.#options.disableDependencies) {
      // A future cannot cross to a worker; sending its fields would be a wrong argument.
      future._reject(
        new TaskFunctionError('D4_FUTURE_ARGUMENT', `task #${future.id} (${info.label}) got a Future as an argument, but this executor has disableDependencies: true; await the future and pass its value, or drop disableDependencies`),
      );
      return future;
    }
    if (deps.length === 0) {
      this.#ready(task);
      return future;
    }
    this.#waiting.add(task);
    let waitingFor = deps.length;
    const onDependencyDone = (dep: Future<unknown>) => {
      if (future.done()) return;
      const outcome = dep._valueIfDone()!;
      if (!outcome.ok) {
        if (outcome.cancelled) {
          propagate(() => future._cancel(new CancelledError(`task #${future.id} (${info.label}) was cancelled because its argument, task #${dep.id} (${dep.label}), was cancelled`)));
        } else {
          const upstream = outcome.error;
          const root = upstream instanceof DependencyError ? upstream.rootMessage : ((upstream as Error)?.message ?? String(upstream));
          const how = upstream instanceof DependencyError ? 'did not run either' : 'failed';
          propagate(() => future._reject(new DependencyError(`task #${future.id} (${info.label}) did not run because its argument, task #${dep.id} (${dep.label}), ${how}; the first failure: ${root}`, upstream, root)));
        }
        return;
      }
      if (--waitingFor === 0) {
        task.args = replaceFutures(task.args);
        this.#ready(task);
      }
    };
    for (const dep of deps) dep.addDoneCallback(onDependencyDone);
    return future;
  }

  #functionInfo(fn: AnyFunction | TaskRef): FunctionInfo {
    if ((typeof fn !== 'function' && typeof fn !== 'object') || fn === null) return describeFunction(fn as AnyFunction, this.#nextFunctionKey++);
    let info = this.#functions.get(fn);
    if (!info) {
      info = describeFunction(fn, this.#nextFunctionKey++);
      this.#functions.set(fn, info);
    }
    return info;
  }

  #resourcesFor(call: CallOptions | undefined, label: string): Pick<Task, 'cores' | 'gpus' | 'threadsPerCore' | 'cwd' | 'timeout' | 'maxRetries'> {
    const maxRetries = call?.maxRetries !== undefined ? nonNegativeInt(call.maxRetries, 'maxRetries') : (this.#options.maxRetries ?? 0);
    const timeout = call?.timeout === undefined ? undefined : positiveNumber(call.timeout, 'timeout');
    const cores = call?.cores === undefined ? this.coresPerWorker : positiveInt(call.cores, 'cores');
    const threadsPerCore = call?.threadsPerCore === undefined ? this.#threadsPerCore : positiveInt(call.threadsPerCore, 'threadsPerCore');
    const gpus = call?.gpusPerCore === undefined ? this.#gpusPerWorker : nonNegativeInt(call.gpusPerCore, 'gpusPerCore') * cores;
    const cwd = call?.cwd === undefined ? this.#options.cwd : call.cwd;
    if (this.blockAllocation && call) {
      const differs = (call.cores !== undefined && cores !== this.coresPerWorker) || (call.threadsPerCore !== undefined && threadsPerCore !== this.#threadsPerCore) || call.gpusPerCore !== undefined || (call.cwd !== undefined && cwd !== this.#options.cwd);
      if (differs) {
        throw new ResourceError(
          `task ${label}: with blockAllocation the workers' cores, threads, GPUs and cwd are fixed when the executor starts (coresPerWorker ${this.coresPerWorker}); set them on the executor, or use blockAllocation: false to give each call its own`,
        );
      }
    }
    if (cores > this.maxCores) throw new ResourceError(`task ${label} asks for ${cores} cores, but the executor has maxCores ${this.maxCores}; raise maxCores or ask for fewer`);
    if (!this.blockAllocation && gpus > this.#allGpus.length) {
      throw new ResourceError(`task ${label} asks for ${gpus} GPUs, but the executor has ${this.#allGpus.length} (gpus option or CUDA_VISIBLE_DEVICES)`);
    }
    return { cores, gpus, threadsPerCore, cwd, timeout, maxRetries };
  }

  #ready(task: Task): void {
    if (task.future.done()) return;
    if (!this.#cache) return this.#enqueue(task);
    task.state = 'caching';
    this.#waiting.add(task);
    const cache = this.#cache;
    void (async () => {
      try {
        task.cacheKey = await cache.key(task.fn.spec, task.args, task.chunk);
      } catch (error) {
        task.future._reject(new CodecError(`the arguments of task #${task.future.id} (${task.fn.label}) cannot be stored: ${(error as Error).message}`, { cause: error }));
        return;
      }
      const hit = await cache.read(task.cacheKey);
      if (task.future.done()) return;
      if (hit) task.future._resolve(hit.value);
      else this.#enqueue(task);
    })();
  }

  #enqueue(task: Task, front = false): void {
    this.#waiting.delete(task);
    task.state = 'queued';
    task.slot = undefined;
    task.future._setPending();
    if (front) {
      if (this.#queueHead > 0) this.#queue[--this.#queueHead] = task;
      else this.#queue.unshift(task);
    } else {
      this.#queue.push(task);
    }
    this.#scheduleFlush();
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    // A microtask: tasks submitted in the same tick leave in one message.
    queueMicrotask(() => {
      this.#flushScheduled = false;
      try {
        if (this.blockAllocation) this.#dispatchBlock();
        else this.#dispatchFresh();
      } catch (error) {
        // A worker could not be started at all (e.g. the package is not built): fail what waits, never hang.
        const failure = new WorkerError(`@d4/executor cannot start a worker: ${(error as Error).message}`, 'D4_WORKER_START', { cause: error });
        for (const task of this.#pendingTasks()) task.future._reject(failure);
        for (const slot of [...this.#workers, ...this.#taskSlots]) {
          if (!slot) continue;
          for (const task of [...slot.inflight]) task.future._reject(failure);
        }
      }
    });
  }

  // ---------------------------------------------------------------- dispatch

  #dispatchBlock(): void {
    const batches = new Map<Slot, Task[]>();
    while (this.#queueHead < this.#queue.length) {
      const task = this.#queue[this.#queueHead];
      if (task.future.done()) {
        this.#queueHead++;
        continue;
      }
      const slot = this.#slotWithRoom();
      if (!slot) break;
      this.#queueHead++;
      this.#assign(task, slot);
      let batch = batches.get(slot);
      if (!batch) batches.set(slot, (batch = []));
      batch.push(task);
    }
    this.#compactQueue();
    for (const [slot, tasks] of batches) this.#send(slot, tasks);
  }

  /** The started worker with the fewest queued tasks below its depth, starting workers as needed. */
  #slotWithRoom(): Slot | undefined {
    let best: Slot | undefined;
    for (let i = 0; i < this.#workers.length; i++) {
      let slot = this.#workers[i];
      if (!slot) {
        slot = this.#startSlot(this.coresPerWorker, this.#threadsPerCore, this.#options.cwd, this.#takeGpus(this.#gpusPerWorker), i);
        this.#workers[i] = slot;
      }
      if (slot.inflight.length < depthOf(slot) && (!best || slot.inflight.length < best.inflight.length)) best = slot;
    }
    return best;
  }

  #dispatchFresh(): void {
    // No head-of-line blocking: every waiting task that fits the free cores and GPUs starts,
    // even when an earlier, larger one has to wait.
    let kept = 0;
    const queue = this.#queue;
    for (let i = this.#queueHead; i < queue.length; i++) {
      const task = queue[i];
      if (task.future.done()) continue;
      if (task.cores <= this.maxCores - this.#usedCores && task.gpus <= this.#freeGpus.length && this.#taskSlots.size < this.maxWorkers) {
        this.#usedCores += task.cores;
        const slot = this.#startSlot(task.cores, task.threadsPerCore, task.cwd, this.#takeGpus(task.gpus), -1);
        this.#taskSlots.add(slot);
        this.#assign(task, slot);
        this.#send(slot, [task]);
      } else {
        queue[kept++] = task;
      }
    }
    queue.length = kept;
    this.#queueHead = 0;
  }

  #compactQueue(): void {
    if (this.#queueHead === this.#queue.length) {
      this.#queue = [];
      this.#queueHead = 0;
    } else if (this.#queueHead > 4096 && this.#queueHead * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#queueHead);
      this.#queueHead = 0;
    }
  }

  #assign(task: Task, slot: Slot): void {
    task.state = 'running';
    task.slot = slot;
    task.attempts++;
    task.future._setRunning();
    slot.inflight.push(task);
    if (!slot.referenced) {
      slot.referenced = true;
      slot.handle.ref();
    }
  }

  #send(slot: Slot, tasks: Task[]): void {
    for (let start = 0; start < tasks.length; start += MAX_TASKS_PER_MESSAGE) {
      const part = tasks.slice(start, start + MAX_TASKS_PER_MESSAGE);
      const defs: [number, FnSpec][] = [];
      for (const task of part) {
        if (!slot.sentKeys.has(task.fn.key)) {
          slot.sentKeys.add(task.fn.key);
          defs.push([task.fn.key, task.fn.spec]);
        }
      }
      const wire: WireTask[] = part.map((t) => [t.future.id, t.fn.key, t.args, (t.chunk ? F_CHUNK : 0) | (t.timeout !== undefined ? F_TIMED : 0)]);
      let bytes: Uint8Array;
      try {
        bytes = encode([M_TASKS, defs, wire]);
      } catch {
        bytes = this.#encodeWithoutBadArguments(slot, part, defs, wire);
      }
      slot.handle.send(bytes);
    }
  }

  /** Fails the tasks whose arguments the codec cannot carry, and encodes the rest. */
  #encodeWithoutBadArguments(slot: Slot, part: Task[], defs: [number, FnSpec][], wire: WireTask[]): Uint8Array {
    const keep: WireTask[] = [];
    for (let i = 0; i < part.length; i++) {
      try {
        encode(wire[i][2]);
        keep.push(wire[i]);
      } catch (error) {
        const task = part[i];
        this.#removeInflight(slot, task);
        task.future._reject(new CodecError(`the arguments of task #${task.future.id} (${task.fn.label}) cannot be sent to a worker: ${(error as Error).message}`, { cause: error }));
      }
    }
    return encode([M_TASKS, defs, keep]);
  }

  // ---------------------------------------------------------------- workers

  #startSlot(cores: number, threadsPerCore: number | undefined, cwd: string | undefined, gpus: string[], index: number): Slot {
    const backend = this.#backendFor(threadsPerCore, cwd, gpus);
    const env: Record<string, string> = { ...(process.env as Record<string, string>), ...(this.#options.env ?? {}) };
    if (threadsPerCore !== undefined) for (const name of THREAD_ENV_VARS) env[name] = String(threadsPerCore * cores);
    if (this.#managesGpus || gpus.length > 0) env.CUDA_VISIBLE_DEVICES = gpus.join(',');
    const id = this.#nextSlotId++;
    const slot: Slot = {
      id,
      backend,
      handle: undefined as unknown as WorkerHandle,
      inflight: [],
      avgMs: undefined,
      sentKeys: new Set(),
      cores,
      gpus,
      stopped: false,
      referenced: false,
      index,
    };
    slot.handle = backend.start(
      { id, env, ...(cwd !== undefined ? { cwd: resolvePath(cwd) } : {}), cores },
      {
        message: (bytes) => this.#onMessage(slot, bytes),
        exit: (info) => this.#onExit(slot, info),
      },
    );
    slot.handle.unref();
    const initSpec = this.#initInfo?.spec ?? null;
    slot.handle.send(encode([M_INIT, id, initSpec]));
    return slot;
  }

  #backendFor(threadsPerCore: number | undefined, cwd: string | undefined, gpus: string[]): WorkerBackend {
    const choice = this.#options.backend ?? 'auto';
    if (typeof choice === 'object') return choice;
    if (choice === 'thread') return threadBackend;
    if (choice === 'process') return processBackend;
    return threadsPerCore !== undefined || cwd !== undefined || gpus.length > 0 || this.#managesGpus ? processBackend : threadBackend;
  }

  #takeGpus(count: number): string[] {
    return count > 0 ? this.#freeGpus.splice(0, count) : [];
  }

  #onMessage(slot: Slot, raw: Uint8Array): void {
    if (slot.stopped) return;
    let message: unknown[];
    try {
      message = decode<unknown[]>(raw);
    } catch (error) {
      this.#crash(slot, `sent a message that cannot be decoded (${(error as Error).message})`);
      return;
    }
    if (message[0] === W_RESULTS) {
      const results = message[1] as [number, number, unknown][];
      const perTask = (message[2] as number) / results.length;
      slot.avgMs = slot.avgMs === undefined ? perTask : slot.avgMs * 0.7 + perTask * 0.3;
      for (const [id, ok, value] of results) {
        const task = this.#removeInflightById(slot, id);
        if (!task) continue; // cancelled or timed out meanwhile
        if (ok) {
          if (task.cacheKey !== undefined && this.#cache) this.#cache.write(task.cacheKey, value);
          task.future._resolve(value);
        } else {
          task.future._reject(this.#taskError(task, value as ErrorInfo));
        }
      }
      if (slot.inflight.length === 0 && slot.referenced) {
        slot.referenced = false;
        slot.handle.unref();
      }
      if (this.blockAllocation) this.#scheduleFlush();
    } else if (message[0] === W_STARTED) {
      const task = slot.inflight.find((t) => t.future.id === message[1]);
      if (task && task.timeout !== undefined && !task.timer) {
        task.timer = setTimeout(() => this.#onTimeout(task), task.timeout);
      }
    } else if (message[0] === W_INIT_FAILED) {
      const info = message[1] as ErrorInfo;
      this.#break(new InitError(`the init function failed in worker ${slot.id}: ${info.name}: ${info.message}; every task of this executor fails until you fix init and create a new executor`, remoteError(info, this.#initInfo?.mapStack)));
    }
  }

  #taskError(task: Task, info: ErrorInfo): Error {
    if (info.d4) {
      if (info.code === 'D4_CODEC') return new CodecError(info.message);
      return new TaskFunctionError(isD4ErrorCode(info.code) ? info.code : 'D4_TASK_NOT_SHIPPABLE', info.message);
    }
    return new TaskError(task.future.id, `task #${task.future.id} (${task.fn.label}) failed: ${info.name}: ${info.message}`, remoteError(info, task.fn.mapStack));
  }

  #removeInflightById(slot: Slot, id: number): Task | undefined {
    const inflight = slot.inflight;
    // Results come in the order the worker ran the tasks: nearly always the first one.
    const at = inflight.length > 0 && inflight[0].future.id === id ? 0 : inflight.findIndex((t) => t.future.id === id);
    if (at < 0) return undefined;
    const [task] = inflight.splice(at, 1);
    this.#finishRun(task);
    return task;
  }

  #removeInflight(slot: Slot, task: Task): void {
    const at = slot.inflight.indexOf(task);
    if (at >= 0) slot.inflight.splice(at, 1);
    this.#finishRun(task);
  }

  /** A task left its worker: clear its timer, and without block allocation, retire the worker. */
  #finishRun(task: Task): void {
    if (task.timer) clearTimeout(task.timer);
    task.timer = undefined;
    const slot = task.slot;
    task.slot = undefined;
    if (slot && !this.blockAllocation && slot.inflight.length === 0) this.#retireFreshSlot(slot);
  }

  #retireFreshSlot(slot: Slot): void {
    if (!this.#taskSlots.delete(slot)) return;
    this.#stopSlot(slot);
    this.#usedCores -= slot.cores;
    this.#freeGpus.push(...slot.gpus);
    this.#scheduleFlush();
  }

  #stopSlot(slot: Slot): void {
    if (slot.stopped) return;
    slot.stopped = true;
    slot.handle.stop();
  }

  /** Stops a worker on purpose (timeout, cancel): its other tasks go back to the front of the queue. */
  #replaceWorker(slot: Slot, except: Task): void {
    const others = slot.inflight.filter((t) => t !== except);
    slot.inflight = [except];
    this.#removeInflight(slot, except);
    this.#detachSlot(slot);
    this.#requeueFront(others);
  }

  #detachSlot(slot: Slot): void {
    if (this.blockAllocation) {
      if (slot.index >= 0 && this.#workers[slot.index] === slot) {
        this.#workers[slot.index] = undefined;
        this.#freeGpus.push(...slot.gpus);
      }
      this.#stopSlot(slot);
      this.#scheduleFlush();
    } else {
      this.#retireFreshSlot(slot);
      this.#stopSlot(slot);
    }
  }

  #requeueFront(tasks: Task[]): void {
    for (let i = tasks.length - 1; i >= 0; i--) {
      const task = tasks[i];
      if (task.timer) clearTimeout(task.timer);
      task.timer = undefined;
      task.attempts--; // it did not really run
      if (!task.future.done()) this.#enqueue(task, true);
    }
  }

  #onTimeout(task: Task): void {
    const slot = task.slot;
    if (!slot || task.future.done()) return;
    this.#replaceWorker(slot, task);
    task.future._reject(
      new TaskTimeoutError(`task #${task.future.id} (${task.fn.label}) ran longer than its timeout of ${task.timeout} ms; its worker was stopped and replaced; raise the timeout or make the task shorter`),
    );
  }

  #cancel(task: Task): void {
    if (task.state === 'running' && task.slot) this.#replaceWorker(task.slot, task);
    task.future._cancel(new CancelledError(`task #${task.future.id} (${task.fn.label}) was cancelled`));
  }

  #onExit(slot: Slot, info: WorkerExit): void {
    if (slot.stopped) return;
    slot.stopped = true;
    const how = info.error
      ? `threw ${info.error.name}: ${info.error.message} outside any task`
      : info.signal
        ? `was killed by ${info.signal}`
        : `exited with code ${info.code}`;
    this.#crash(slot, how);
  }

  /** A worker died unexpectedly: the task it was running is retried or failed; the others are requeued. */
  #crash(slot: Slot, how: string): void {
    this.#stopSlot(slot);
    const [culprit, ...others] = slot.inflight;
    slot.inflight = [];
    if (culprit) {
      if (culprit.timer) clearTimeout(culprit.timer);
      culprit.timer = undefined;
      culprit.slot = undefined;
    }
    this.#detachSlot(slot);
    this.#requeueFront(others);
    if (!culprit || culprit.future.done()) return;
    if (this.#broken) {
      culprit.future._reject(this.#broken);
    } else if (culprit.attempts <= culprit.maxRetries) {
      this.#enqueue(culprit, true);
    } else {
      culprit.future._reject(
        new WorkerCrashedError(
          `the ${slot.backend.name} worker ${slot.id} running task #${culprit.future.id} (${culprit.fn.label}) ${how}; the task ran ${culprit.attempts} time(s) (maxRetries ${culprit.maxRetries}); ` +
            `a task that exits or crashes takes its worker with it: look for the cause in the worker's output, or raise maxRetries if the crash is intermittent. The worker was replaced.`,
        ),
      );
    }
  }

  /** init failed: every task, now and later, fails with the same error. */
  #break(error: InitError): void {
    if (this.#broken) return;
    this.#broken = error;
    for (const task of this.#pendingTasks()) task.future._reject(error);
    for (const slot of [...this.#workers, ...this.#taskSlots]) {
      if (!slot) continue;
      for (const task of [...slot.inflight]) task.future._reject(error);
      slot.inflight = [];
      this.#stopSlot(slot);
    }
    this.#workers.fill(undefined);
  }

  // ---------------------------------------------------------------- bookkeeping

  #onTaskDone(task: Task): void {
    if (task.state === 'running' && task.slot) {
      // Done while still in a worker (rejected by break/crash paths): make sure the slot forgets it.
      this.#removeInflight(task.slot, task);
    }
    task.state = 'done';
    task.args = [];
    this.#waiting.delete(task);
    this.#unfinished--;
    if (this.#unfinished === 0 && this.#idleWaiters.length) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  #whenIdle(): Promise<void> {
    if (this.#unfinished === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Tasks not yet running: waiting for arguments, looking in the cache, or queued. */
  #pendingTasks(): Task[] {
    const tasks: Task[] = [];
    for (let i = this.#queueHead; i < this.#queue.length; i++) if (!this.#queue[i].future.done()) tasks.push(this.#queue[i]);
    for (const task of this.#waiting) if (!task.future.done()) tasks.push(task);
    return tasks;
  }


  #shutdownError(): ExecutorShutdownError {
    return new ExecutorShutdownError('this executor was shut down; create a new Executor to submit more tasks');
  }

  #requireGraph(): DependencyGraph {
    if (!this.#graph) throw new OptionError('the dependency graph is recorded only with new Executor({ recordGraph: true })', 'D4_EXECUTOR_OPTION');
    return this.#graph;
  }
}

/**
 * Failures and cancellations travel down a chain of dependents through done callbacks. Run
 * nested propagations from a loop instead of recursively, so a chain of any length does not
 * overflow the stack (the outermost call still completes everything before it returns).
 */
const propagation: (() => void)[] = [];
let propagating = false;
function propagate(step: () => void): void {
  propagation.push(step);
  if (propagating) return;
  propagating = true;
  try {
    for (let i = 0; i < propagation.length; i++) propagation[i]();
  } finally {
    propagation.length = 0;
    propagating = false;
  }
}

function depthOf(slot: Slot): number {
  // Until a task has been timed, one at a time: long tasks must not pile up behind each other
  // while another worker idles. Short tasks get a deeper queue so the worker never waits for a message.
  if (slot.avgMs === undefined) return 1;
  return Math.max(1, Math.min(MAX_QUEUED_IN_WORKER, Math.floor(TARGET_QUEUED_MS / Math.max(slot.avgMs, 0.001))));
}

function remoteError(info: ErrorInfo, mapStack?: (stack: string) => string): RemoteError {
  return new RemoteError(info.name, info.message, info.stack && mapStack ? mapStack(info.stack) : info.stack, info.code);
}

function isIterable(value: unknown): value is Iterable<unknown> | AsyncIterable<unknown> {
  return value !== null && typeof value === 'object' && (Symbol.iterator in value || Symbol.asyncIterator in value);
}

function positiveInt(value: number | undefined, name: string, fallback?: number): number {
  if (value === undefined && fallback !== undefined) return fallback;
  if (!Number.isInteger(value) || (value as number) < 1) throw new OptionError(`${name} must be a whole number ≥ 1, got ${String(value)}`, 'D4_EXECUTOR_OPTION');
  return value as number;
}

function nonNegativeInt(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 0) throw new OptionError(`${name} must be a whole number ≥ 0, got ${String(value)}`, 'D4_EXECUTOR_OPTION');
  return value;
}

function positiveNumber(value: number, name: string): number {
  if (typeof value !== 'number' || !(value > 0)) throw new OptionError(`${name} must be a number of milliseconds > 0, got ${String(value)}`, 'D4_EXECUTOR_OPTION');
  return value;
}
