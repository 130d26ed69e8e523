import type { Future, FutureOwner } from './future.js';
import type { FunctionInfo } from './functions.js';
import type { TaskResources } from './resources.js';
import type { Slot } from './worker-slots.js';

/** What the scheduler does when a task's future completes or is cancelled. */
export interface TaskHooks {
  done(task: Task): void;
  cancel(task: Task): void;
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
  state: 'waiting' | 'caching' | 'queued' | 'running' | 'done' = 'waiting';
  slot: Slot | undefined = undefined;
  timer: NodeJS.Timeout | undefined = undefined;
  cacheKey: string | undefined = undefined;
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
