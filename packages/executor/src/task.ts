import { Future, type FutureOwner } from './future.js';
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

const CHUNK = 1;
const ONE = 2;
const SHAPE_BITS = CHUNK | ONE;
const ATTEMPT_SHIFT = 2;

/** The arguments of a task that is done (kept no longer). Shared, never written. */
const NO_ARGS: unknown[] = [];

/**
 * One submitted call, from submit() until it completes: the future the caller gets is the task
 * record itself (its own owner), so a task costs one object and no closures (a burst of
 * submits keeps them all alive, and every object alive is copied by each young-generation GC).
 */
export class Task extends Future<unknown> implements TaskResources, FutureOwner {
  readonly fn: FunctionInfo;
  /** The arguments: their list, or with ONE its only entry (a burst's usual call then keeps no array alive). */
  #argv: unknown;
  /** CHUNK | ONE, and the attempts from bit ATTEMPT_SHIFT up: one field for three. */
  #shape: number;
  /** Shared by every call without options (worked out once by the executor). */
  readonly resources: TaskResources;
  /** Where the task is ('forwarded': sent to the worker of its unanswered argument futures, to run there from their results); `state` is its future's. */
  phase: 'waiting' | 'caching' | 'queued' | 'forwarded' | 'running' | 'done' = 'waiting';
  slot: Slot | undefined = undefined;
  /** What few tasks have (a timeout's timer, a cache key), in an object of its own, made on first use. */
  #rare: { timer: NodeJS.Timeout | undefined; cacheKey: string | undefined } | undefined = undefined;
  /** Forwarding's bookkeeping, only for tasks that take or give a forwarded result (scheduling/forwarding.ts). */
  link: TaskLink | undefined = undefined;
  #hooks: TaskHooks | undefined = undefined;

  constructor(fn: FunctionInfo, args: unknown[], chunk: boolean, resources: TaskResources) {
    super(fn.label);
    this.fn = fn;
    const one = !chunk && args.length === 1;
    this.#argv = one ? args[0] : args;
    this.#shape = (chunk ? CHUNK : 0) | (one ? ONE : 0);
    this.resources = resources;
  }

  /** The arguments (a new list each time for a one-argument call: read it where it is not hot). */
  get args(): unknown[] {
    return this.#shape & ONE ? [this.#argv] : (this.#argv as unknown[]);
  }

  set args(args: unknown[]) {
    this.#argv = args;
    this.#shape &= ~ONE;
  }

  /** Times it was sent to a worker (a crash retries while attempts ≤ maxRetries). Never below 0: every decrement undoes an increment. */
  get attempts(): number {
    return this.#shape >>> ATTEMPT_SHIFT;
  }

  set attempts(count: number) {
    this.#shape = (this.#shape & SHAPE_BITS) | (count << ATTEMPT_SHIFT);
  }

  /** The timer of a task with a timeout, while it runs. */
  get timer(): NodeJS.Timeout | undefined {
    return this.#rare?.timer;
  }

  set timer(timer: NodeJS.Timeout | undefined) {
    // Cleared after every task: no object for a task that never had one.
    if (timer !== undefined || this.#rare) (this.#rare ??= { timer: undefined, cacheKey: undefined }).timer = timer;
  }

  /** Its key in the result cache, once worked out. */
  get cacheKey(): string | undefined {
    return this.#rare?.cacheKey;
  }

  set cacheKey(key: string | undefined) {
    if (key !== undefined || this.#rare) (this.#rare ??= { timer: undefined, cacheKey: undefined }).cacheKey = key;
  }

  /** args is a list of argument lists (a chunk of map()); the result is the list of results. */
  get chunk(): boolean {
    return (this.#shape & CHUNK) !== 0;
  }

  /** Whether the call has exactly one argument, `wireArgs` being it (protocol.ts, F_ONE); otherwise `wireArgs` is the list. */
  get single(): boolean {
    return (this.#shape & ONE) !== 0;
  }

  get wireArgs(): unknown {
    return this.#argv;
  }

  /** The task's future: the task itself (the scheduler's code reads `task.future` where it means the future's side). */
  get future(): Future<unknown> {
    return this;
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
    this._owner = this;
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
