import type { Future, FutureOwner } from './future.js';
import type { FunctionInfo } from './functions.js';
import type { TaskResources } from './resources.js';
import type { Slot } from './worker-slots.js';

/** What the scheduler does when a task's future completes or is cancelled. */
export interface TaskHooks {
  done(task: Task): void;
  cancel(task: Task): void;
}

/** What forwarding knows about a task (scheduling/forwarding.ts). */
export interface TaskLink {
  /** Dependents that may be forwarded behind this task when it is dispatched. */
  followers: Task[] | undefined;
  /** As a follower: its argument futures. */
  deps: readonly Future<unknown>[];
  /** The dispatch round in which it was sent to a worker (a result is kept only for tasks sent in the same round as their dependents). */
  round: number;
  /** Refs of forwarded tasks behind it that read its result in the worker. */
  keep: number;
  /** As a forwarded task: its arguments as sent, `[template, ...refs]` (protocol.ts, F_FORWARDED). */
  wire: unknown[] | undefined;
  /** As a forwarded task: its number in its worker's run order (to fence it off on cancel). */
  seq: number;
}

/** The arguments of a task that is done (kept no longer). Shared, never written. */
const NO_ARGS: unknown[] = [];

/**
 * One submitted call, from submit() until its future completes. It is its future's owner, so
 * a task costs one object here and no closures (a burst of submits keeps them all alive).
 */
export class Task implements TaskResources, FutureOwner {
  readonly future: Future<unknown>;
  readonly fn: FunctionInfo;
  args: unknown[];
  /** args is a list of argument lists (a chunk of map()); the result is the list of results. */
  readonly chunk: boolean;
  /** Shared by every call without options (worked out once by the executor). */
  readonly resources: TaskResources;
  /** Times it was sent to a worker (a crash retries while attempts ≤ maxRetries). */
  attempts = 0;
  /** 'forwarded': sent to the worker of its unanswered argument futures, to run there from their results. */
  state: 'waiting' | 'caching' | 'queued' | 'forwarded' | 'running' | 'done' = 'waiting';
  slot: Slot | undefined = undefined;
  timer: NodeJS.Timeout | undefined = undefined;
  cacheKey: string | undefined = undefined;
  /** Forwarding's bookkeeping, only for tasks that take or give a forwarded result (scheduling/forwarding.ts). */
  link: TaskLink | undefined = undefined;
  #hooks: TaskHooks | undefined = undefined;

  constructor(future: Future<unknown>, fn: FunctionInfo, args: unknown[], chunk: boolean, resources: TaskResources) {
    this.future = future;
    this.fn = fn;
    this.args = args;
    this.chunk = chunk;
    this.resources = resources;
  }

  // The resources through getters on the prototype: one field per task instead of six.
  get cores(): number {
    return this.resources.cores;
  }
  get gpus(): number {
    return this.resources.gpus;
  }
  get threadsPerCore(): number | undefined {
    return this.resources.threadsPerCore;
  }
  get cwd(): string | undefined {
    return this.resources.cwd;
  }
  get timeout(): number | undefined {
    return this.resources.timeout;
  }
  get maxRetries(): number {
    return this.resources.maxRetries;
  }

  /** The scheduler takes the task: it hears when the future completes or is cancelled. */
  own(hooks: TaskHooks): void {
    this.#hooks = hooks;
    this.future._owner = this;
  }

  /** Whether this scheduler owns the task (a future of another executor is never forwarded). */
  ownedBy(hooks: TaskHooks): boolean {
    return this.#hooks === hooks;
  }

  onFutureDone(): void {
    this.#hooks?.done(this);
  }

  cancelTask(): void {
    this.#hooks?.cancel(this);
  }

  /** The task is done: let its arguments go. */
  dropArgs(): void {
    this.args = NO_ARGS;
  }
}
