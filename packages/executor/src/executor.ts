import { resolve as resolvePath } from 'node:path';
import { OptionError } from '@d4/core';
import type { Future } from './future.js';
import { ExecutorShutdownError, TaskFunctionError, CancelledError } from './errors.js';
import { describeFunction, type AnyFunction, type FunctionInfo, type TaskRef } from './functions.js';
import { collectFutures, replaceFutures } from './dependencies.js';
import { ResultCache } from './cache.js';
import { DependencyGraph, type DependencyGraphJSON } from './graph.js';
import { mapTasks, type MapOptions } from './map.js';
import { resolveSettings, type CallOptions, type ExecutorOptions, type Settings } from './options.js';
import { resourcesFor, type TaskResources } from './resources.js';
import { Scheduler } from './scheduler.js';
import { waitForDependencies } from './scheduling/dependency-wiring.js';
import { Task } from './task.js';

export { THREAD_ENV_VARS } from './resources.js';
export type { ExecutorOptions, CallOptions } from './options.js';

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

/**
 * A futures executor in the manner of pympipool: submit functions, get futures; futures can
 * be arguments of other calls; workers are threads or processes with cores, threads and GPUs
 * assigned. See the package README for the full story. This class is the front: it checks
 * options and calls, wires dependencies, and hands ready tasks to the scheduler.
 */
export class Executor<I = undefined> implements AsyncDisposable {
  readonly maxWorkers: number;
  readonly maxCores: number;
  readonly coresPerWorker: number;
  readonly blockAllocation: boolean;
  readonly #options: ExecutorOptions<I>;
  readonly #settings: Settings;
  readonly #cache: ResultCache | undefined;
  readonly #graph: DependencyGraph | undefined;
  readonly #scheduler: Scheduler;
  readonly #functions = new WeakMap<object, FunctionInfo>();
  /** The resources of a call without options: the same for every such call, so worked out once. */
  #defaultResources: TaskResources | undefined;
  #nextFunctionKey = 1;
  #lastFunction: object | undefined;
  #lastInfo: FunctionInfo | undefined;
  #closed = false;
  #shutdownDone: Promise<void> | undefined;

  constructor(options: ExecutorOptions<I> = {}) {
    this.#options = options;
    const settings = resolveSettings(options as ExecutorOptions<unknown>);
    this.#settings = settings;
    this.coresPerWorker = settings.coresPerWorker;
    this.maxCores = settings.maxCores;
    this.maxWorkers = settings.maxWorkers;
    this.blockAllocation = settings.blockAllocation;
    let initInfo: FunctionInfo | undefined;
    if (options.init !== undefined) {
      initInfo = describeFunction(options.init as AnyFunction, 0);
      if (initInfo.error) throw initInfo.error;
    }
    this.#cache = options.cacheDirectory ? new ResultCache(resolvePath(options.cacheDirectory)) : undefined;
    this.#graph = options.recordGraph ? new DependencyGraph() : undefined;
    this.#scheduler = new Scheduler(settings, options as ExecutorOptions<unknown>, this.#cache, initInfo && { spec: initInfo.spec, ...(initInfo.mapStack ? { mapStack: initInfo.mapStack } : {}) });
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
      for (const task of this.#scheduler.pendingTasks()) {
        task.future._cancel(new CancelledError(`task #${task.future.id} (${task.fn.label}) was cancelled by shutdown({ cancelFutures: true })`));
      }
    }
    this.#shutdownDone ??= (async () => {
      await this.#scheduler.whenIdle();
      await this.#cache?.flush();
      this.#scheduler.stopWorkers();
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
   * Dependent tasks sent straight to the worker that runs their argument futures' tasks, to run
   * there from those results (README, "Dependencies"), since the executor started.
   */
  get forwarded(): number {
    return this.#scheduler.forwarded;
  }

  /** Tasks submitted and not yet done. */
  get pending(): number {
    return this.#scheduler.unfinished;
  }

  #submit(fn: AnyFunction | TaskRef, args: unknown[], call: CallOptions | undefined, chunk: boolean): Future<unknown> {
    if (this.#closed) throw this.#shutdownError();
    const info = this.#functionInfo(fn);
    const resources = call === undefined ? (this.#defaultResources ??= resourcesFor(this.#settings, undefined, info.label)) : resourcesFor(this.#settings, call, info.label);
    const task = new Task(info, args, chunk, resources);
    const future: Future<unknown> = task;
    const deps = collectFutures(args);
    this.#graph?.add(future, this.#options.disableDependencies ? [] : deps);
    const scheduler = this.#scheduler;
    scheduler.track(task);
    if (info.error) {
      future._reject(info.error);
      return future;
    }
    if (scheduler.broken) {
      future._reject(scheduler.broken);
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
      scheduler.ready(task);
      return future;
    }
    scheduler.waitForArguments(task, deps, call === undefined);
    waitForDependencies(future, info.label, deps, () => {
      task.args = replaceFutures(task.args);
      scheduler.ready(task);
    });
    return future;
  }

  #functionInfo(fn: AnyFunction | TaskRef): FunctionInfo {
    // A burst submits one function many times: remember the last one before the WeakMap.
    if (fn === this.#lastFunction) return this.#lastInfo!;
    if ((typeof fn !== 'function' && typeof fn !== 'object') || fn === null) return describeFunction(fn as AnyFunction, this.#nextFunctionKey++);
    let info = this.#functions.get(fn);
    if (!info) {
      info = describeFunction(fn, this.#nextFunctionKey++);
      this.#functions.set(fn, info);
    }
    this.#lastFunction = fn;
    this.#lastInfo = info;
    return info;
  }

  #shutdownError(): ExecutorShutdownError {
    return new ExecutorShutdownError('this executor was shut down; create a new Executor to submit more tasks');
  }

  #requireGraph(): DependencyGraph {
    if (!this.#graph) throw new OptionError('the dependency graph is recorded only with new Executor({ recordGraph: true })', 'D4_EXECUTOR_OPTION');
    return this.#graph;
  }
}

function isIterable(value: unknown): value is Iterable<unknown> | AsyncIterable<unknown> {
  return value !== null && typeof value === 'object' && (Symbol.iterator in value || Symbol.asyncIterator in value);
}
