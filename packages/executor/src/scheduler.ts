import { decode, CodecError, WorkerError } from '@d4/core';
import { CancelledError, InitError, TaskTimeoutError } from './errors.js';
import { RESULT_FIELDS, R_OK, R_SKIPPED, W_INIT_FAILED, W_RESULTS, W_STARTED, type ErrorInfo, type FnSpec } from './protocol.js';
import { processBackend, threadBackend, type WorkerExit } from './backend.js';
import type { Future } from './future.js';
import type { ResultCache } from './cache.js';
import type { ExecutorOptions, Settings } from './options.js';
import type { Task, TaskHooks } from './task.js';
import { WorkerSlots, type Slot } from './worker-slots.js';
import { TaskQueue } from './scheduling/task-queue.js';
import { leastLoaded, nextAverage, queueBound } from './scheduling/block-dispatch.js';
import { Forwarding, endedByArgument, forwardLimit } from './scheduling/forwarding.js';
import { takeFitting } from './scheduling/fresh-dispatch.js';
import { crashError, describeExit, remoteError, taskError } from './failures.js';

/**
 * Everything between a task that is ready to run and its future completing: the queue, the
 * dispatch strategy (block or fresh), the workers, their answers, and what happens when a
 * task times out, is cancelled, or its worker dies.
 */
export class Scheduler {
  readonly #settings: Settings;
  readonly #cache: ResultCache | undefined;
  readonly #slots: WorkerSlots;
  readonly #initMapStack: ((stack: string) => string) | undefined;
  readonly #queue = new TaskQueue<Task>((task) => task.future.done());
  #flushScheduled = false;
  /** Tasks waiting for their argument futures or for the cache. */
  readonly #waiting = new Set<Task>();
  #unfinished = 0;
  #idleWaiters: (() => void)[] = [];
  #broken: InitError | undefined;
  /** One object for every task's future (no closures per task). */
  readonly #hooks: TaskHooks = {
    done: (task) => this.#onTaskDone(task),
    cancel: (task) => this.#cancel(task),
  };
  /** Dependent tasks sent to the worker of their arguments (scheduling/forwarding.ts); undefined when this executor cannot. */
  readonly #forwarding: Forwarding | undefined;
  readonly #unsendable = (task: Task, error: Error): void => {
    if (task.slot) this.#removeInflight(task.slot, task);
    task.future._reject(error);
  };

  constructor(settings: Settings, options: ExecutorOptions<unknown>, cache: ResultCache | undefined, init: { spec: FnSpec; mapStack?: (stack: string) => string } | undefined) {
    this.#settings = settings;
    this.#cache = cache;
    this.#initMapStack = init?.mapStack;
    this.#forwarding = settings.blockAllocation && !cache && settings.launcher === 'local' ? new Forwarding(this.#hooks) : undefined;
    this.#slots = new WorkerSlots(settings, options, init?.spec ?? null, {
      message: (slot, bytes) => this.#onMessage(slot, bytes),
      exit: (slot, info) => this.#onExit(slot, info),
    });
  }

  /** Tasks submitted and not yet done. */
  get unfinished(): number {
    return this.#unfinished;
  }

  /** Set when init failed: every task fails with it. */
  get broken(): InitError | undefined {
    return this.#broken;
  }

  /** Counts a new task until its future completes, and lets `cancel()` reach its worker. */
  track(task: Task): void {
    this.#unfinished++;
    task.own(this.#hooks);
  }

  /** Dependent tasks forwarded to the worker of their arguments so far. */
  get forwarded(): number {
    return this.#forwarding?.count ?? 0;
  }

  /**
   * The task waits for its argument futures (see dependency-wiring.ts). `plain`: a call
   * without options, which may be forwarded to the worker of its arguments.
   */
  waitForArguments(task: Task, deps: readonly Future<unknown>[], plain: boolean): void {
    this.#waiting.add(task);
    if (plain) this.#forwarding?.register(task, deps);
  }

  /** Its arguments are there: look in the cache, else queue it. A forwarded task is in its worker already: from now on it counts as running there. */
  ready(task: Task): void {
    if (task.future.done()) return;
    if (task.phase === 'forwarded') {
      task.phase = 'running';
      task.future._setRunning();
      return;
    }
    if (!this.#cache) return this.#enqueue(task);
    task.phase = 'caching';
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

  /** Resolves once every tracked task is done. */
  whenIdle(): Promise<void> {
    if (this.#unfinished === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Tasks not yet running: waiting for arguments (forwarded ones too), looking in the cache, or queued. */
  pendingTasks(): Task[] {
    const tasks = this.#queue.pending();
    for (const task of this.#waiting) if (!task.future.done()) tasks.push(task);
    if (this.#forwarding?.count) for (const slot of this.#slots.all()) for (const task of slot.inflight.toArray()) if (task.phase === 'forwarded') tasks.push(task);
    return tasks;
  }

  stopWorkers(): void {
    for (const slot of this.#slots.all()) this.#slots.stop(slot);
  }

  // ---------------------------------------------------------------- dispatch

  #enqueue(task: Task, front = false): void {
    this.#waiting.delete(task);
    task.phase = 'queued';
    task.slot = undefined;
    task.future._setPending();
    if (front) this.#queue.pushFront(task);
    else this.#queue.push(task);
    this.#scheduleFlush();
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    // A microtask: tasks submitted in the same tick leave in one message.
    queueMicrotask(() => {
      this.#flushScheduled = false;
      try {
        if (this.#settings.blockAllocation) this.#dispatchBlock();
        else this.#dispatchFresh();
      } catch (error) {
        // A worker could not be started at all (e.g. the package is not built): fail what waits, never hang.
        const failure = new WorkerError(`@d4/executor cannot start a worker: ${(error as Error).message}`, 'D4_WORKER_START', { cause: error });
        for (const task of this.pendingTasks()) task.future._reject(failure);
        for (const slot of this.#slots.all()) for (const task of slot.inflight.toArray()) task.future._reject(failure);
      }
    });
  }

  #dispatchBlock(): void {
    const batches = new Map<Slot, Task[]>();
    const queue = this.#queue;
    let task = queue.peek();
    // Workers start on first use, and again after one was replaced (no event can empty a place during this loop).
    const table = task ? (this.#slots.fillTable() as Slot[]) : [];
    const forwarding = this.#forwarding;
    if (forwarding) forwarding.round++;
    const bound = queueBound(queue.length, table.length);
    for (; task; task = queue.peek()) {
      const slot = leastLoaded(table, bound);
      if (!slot) break;
      queue.shift();
      this.#slots.assign(task, slot);
      let batch = batches.get(slot);
      if (!batch) batches.set(slot, (batch = []));
      batch.push(task);
      if (forwarding && task.link) forwarding.behind(batch, batch.length - 1, slot, this.#forwardLimit(slot), this.#forwardTo(slot));
    }
    queue.compact();
    for (const [slot, tasks] of batches) this.#slots.send(slot, tasks, this.#unsendable);
  }

  /** How many tasks a worker may hold with forwarded ones (forwarding.ts); none where a fence was set or the worker is not a local one. */
  #forwardLimit(slot: Slot): number {
    return slot.fenced || (slot.backend !== threadBackend && slot.backend !== processBackend) ? 0 : forwardLimit(slot.avgMs);
  }

  #forwardTo(slot: Slot): (task: Task) => void {
    return (task) => {
      this.#waiting.delete(task);
      this.#slots.assign(task, slot, true);
    };
  }

  #dispatchFresh(): void {
    const slots = this.#slots;
    const capacity = { freeCores: this.#settings.maxCores - slots.usedCores, freeGpus: this.#settings.launcher === 'slurm' ? Infinity : slots.gpus.free, freeWorkers: this.#settings.maxWorkers - slots.fresh.size };
    this.#queue.takeWhere(
      takeFitting(capacity, (task: Task) => {
        const slot = slots.startFresh(task);
        slots.assign(task, slot);
        slots.send(slot, [task], this.#unsendable);
      }),
    );
  }

  // ---------------------------------------------------------------- answers

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
      const results = message[1] as unknown[];
      slot.avgMs = nextAverage(slot.avgMs, (message[2] as number) / (results.length / RESULT_FIELDS));
      let skipped: Task[] | undefined;
      for (let at = 0; at < results.length; at += RESULT_FIELDS) {
        const value = results[at + 2];
        const task = slot.inflight.takeById(results[at] as number);
        if (!task) continue; // cancelled or timed out meanwhile
        this.#finishRun(task);
        const outcome = results[at + 1];
        if (outcome === R_SKIPPED) {
          // A forwarded task its worker did not run (fenced off by a cancel, or its upstream failed); still wanted: send it again.
          (skipped ??= []).push(task);
        } else if (outcome === R_OK) {
          if (task.cacheKey !== undefined && this.#cache) this.#cache.write(task.cacheKey, value);
          task.future._resolve(value);
        } else {
          task.future._reject(taskError(task, value as ErrorInfo));
        }
      }
      if (skipped) this.#requeueFront(skipped);
      this.#slots.release(slot);
      if (this.#settings.blockAllocation) this.#scheduleFlush();
    } else if (message[0] === W_STARTED) {
      const task = slot.inflight.find((t) => t.future.id === message[1]);
      if (task && task.timeout !== undefined && !task.timer) {
        task.timer = setTimeout(() => this.#onTimeout(task), task.timeout);
      }
    } else if (message[0] === W_INIT_FAILED) {
      const info = message[1] as ErrorInfo;
      // A start-up failure of the worker's own (MPI in a rank) is not the user's init function.
      const what = info.startup ? `worker ${slot.id} could not start: ${info.message}; every task of this executor fails until that is fixed and a new executor is created` : `the init function failed in worker ${slot.id}: ${info.name}: ${info.message}; every task of this executor fails until you fix init and create a new executor`;
      this.#break(new InitError(what, remoteError(info, this.#initMapStack)));
    }
  }

  #removeInflight(slot: Slot, task: Task): void {
    slot.inflight.remove(task);
    this.#finishRun(task);
  }

  /** A task left its worker: clear its timer, and without block allocation, retire the worker. */
  #finishRun(task: Task): void {
    if (task.timer) clearTimeout(task.timer);
    task.timer = undefined;
    const slot = task.slot;
    task.slot = undefined;
    if (slot && !this.#settings.blockAllocation && slot.inflight.length === 0 && this.#slots.retireFresh(slot)) this.#scheduleFlush();
  }

  // ---------------------------------------------------------------- failures

  /** Stops a worker on purpose (timeout, cancel): its other tasks go back to the front of the queue. */
  #replaceWorker(slot: Slot, except: Task): void {
    const others = slot.inflight.drain().filter((t) => t !== except);
    this.#finishRun(except);
    this.#detach(slot);
    this.#requeueFront(others);
  }

  #detach(slot: Slot): void {
    this.#slots.detach(slot);
    this.#scheduleFlush();
  }

  #requeueFront(tasks: Task[]): void {
    for (let i = tasks.length - 1; i >= 0; i--) {
      const task = tasks[i];
      if (task.timer) clearTimeout(task.timer);
      task.timer = undefined;
      task.attempts--; // it did not really run
      if (!task.future.done()) this.#requeue(task);
    }
  }

  /** Runs the task again: queued at the front, or, forwarded and still waiting for its arguments here, back to waiting for them. */
  #requeue(task: Task): void {
    if (task.phase !== 'forwarded') return this.#enqueue(task, true);
    task.phase = 'waiting';
    task.slot = undefined;
    this.#waiting.add(task);
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
    if (task.phase === 'running' && task.slot) this.#replaceWorker(task.slot, task);
    task.future._cancel(new CancelledError(`task #${task.future.id} (${task.fn.label}) was cancelled`));
  }

  #onExit(slot: Slot, info: WorkerExit): void {
    if (slot.stopped) return;
    slot.stopped = true;
    this.#crash(slot, describeExit(info), info.afterTaskFailure === true, info.runningTask);
  }

  /**
   * A worker died unexpectedly: the task it was running is retried or failed; the others are
   * requeued. `blameless`: it was retired after a task failed there (that task has its answer).
   * `running`: the id of the task it was running, when the backend knows; otherwise (or when it
   * died between tasks: a task may have left something behind that killed it) the first task
   * it held is taken for it, so that every crash fails or retries one task and none loops.
   */
  #crash(slot: Slot, how: string, blameless = false, running?: number): void {
    this.#slots.stop(slot);
    const held = slot.inflight.drain();
    const named = running ? held.find((t) => t.future.id === running) : undefined;
    const culprit = blameless ? undefined : (named ?? held[0]);
    const others = culprit ? held.filter((t) => t !== culprit) : held;
    if (culprit) {
      if (culprit.timer) clearTimeout(culprit.timer);
      culprit.timer = undefined;
      culprit.slot = undefined;
    }
    this.#detach(slot);
    this.#requeueFront(others);
    if (!culprit || culprit.future.done()) return;
    if (this.#broken) culprit.future._reject(this.#broken);
    else if (culprit.attempts <= culprit.maxRetries) this.#requeue(culprit);
    else culprit.future._reject(crashError(culprit, slot.backend.name, slot.id, how));
  }

  /** init failed: every task, now and later, fails with the same error. */
  #break(error: InitError): void {
    if (this.#broken) return;
    this.#broken = error;
    for (const task of this.pendingTasks()) task.future._reject(error);
    for (const slot of this.#slots.all()) {
      for (const task of slot.inflight.drain()) task.future._reject(error);
      this.#slots.stop(slot);
    }
    this.#slots.table.fill(undefined);
  }

  /**
   * A forwarded task ended here before its worker answered (a cancel): it must not run. A
   * thread worker is fenced off from it (and from the forwarded tasks after it, which are
   * answered as skipped and sent again); otherwise, or when the worker has started it, the
   * worker is stopped and replaced, as for a cancel of a running task.
   */
  #fenceOff(slot: Slot, task: Task): void {
    if (slot.handle.fence?.(task.link!.seq)) slot.fenced = true;
    else this.#replaceWorker(slot, task);
  }

  // ---------------------------------------------------------------- bookkeeping

  #onTaskDone(task: Task): void {
    const slot = task.slot;
    if ((task.phase === 'running' || task.phase === 'forwarded') && slot) {
      // Done while still in a worker (rejected by break/crash paths, or a forwarded task cancelled or failed upstream): make sure the slot forgets it.
      const held = slot.inflight.remove(task);
      this.#finishRun(task);
      // (Not once init failed: every worker is being stopped.)
      if (held && task.phase === 'forwarded' && !slot.stopped && !this.#broken && !endedByArgument(task)) this.#fenceOff(slot, task);
    }
    // The task is the caller's future and lives as long as it: forwarding's links (argument futures, followers) must not keep a chain alive behind it.
    task.link = undefined;
    const wasWaiting = task.phase === 'waiting' || task.phase === 'caching';
    task.phase = 'done';
    task.dropArgs();
    if (wasWaiting) this.#waiting.delete(task);
    this.#unfinished--;
    if (this.#unfinished === 0 && this.#idleWaiters.length) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const w of waiters) w();
    }
  }
}
