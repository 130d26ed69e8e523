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
  readonly cores: number;
  readonly gpus: number;
  readonly threadsPerCore: number | undefined;
  readonly cwd: string | undefined;
  readonly timeout: number | undefined;
  readonly maxRetries: number;
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
    this.cores = resources.cores;
    this.gpus = resources.gpus;
    this.threadsPerCore = resources.threadsPerCore;
    this.cwd = resources.cwd;
    this.timeout = resources.timeout;
    this.maxRetries = resources.maxRetries;
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
