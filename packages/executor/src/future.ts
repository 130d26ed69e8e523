import { CancelledError, FutureTimeoutError } from './errors.js';

/** Brand shared by every copy of this package (tests load src, scripts load dist). */
const FUTURE_BRAND = Symbol.for('d4.executor.future');

export type FutureState = 'pending' | 'running' | 'finished' | 'failed' | 'cancelled';
export type DoneCallback<T> = (future: Future<T>) => void;

/**
 * What runs a future's task (the executor's task record): told first when the future
 * completes, and asked to stop the task when someone cancels the future. An object rather
 * than two closures per future, because a burst of submits keeps every future alive at once.
 */
export interface FutureOwner {
  onFutureDone(): void;
  cancelTask(): void;
}

export function isFuture(value: unknown): value is Future<unknown> {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[FUTURE_BRAND] === true;
}

/**
 * The eventual result of a task, with Python's `concurrent.futures.Future` surface.
 * It is also a thenable, so `await future` works. No Promise is created until someone
 * awaits it, so a failed future nobody looks at does not raise an unhandled rejection.
 * Done callbacks run synchronously when the future completes: that is how dependent
 * tasks become ready without a poll.
 */
export class Future<T = unknown> implements PromiseLike<T> {
  // On the prototype (set below), not on every instance.
  declare readonly [FUTURE_BRAND]: true;
  /** A number unique within this process, used in messages and the dependency graph. */
  readonly id: number;
  /** What the future computes, e.g. the task function's name. */
  readonly label: string;
  #state: FutureState = 'pending';
  /** The value once finished, the error once failed or cancelled. */
  #outcome: unknown = undefined;
  // One callback as itself, more as an array (most futures have one or none). Stored loosely
  // typed so that Future<string> is assignable to Future<unknown> (covariance).
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  #callbacks: DoneCallback<any> | DoneCallback<any>[] | undefined = undefined;
  #promise: Promise<T> | undefined = undefined;
  /** Set by the executor: told when the future completes, asked to stop its task on cancel(). */
  _owner: FutureOwner | undefined = undefined;

  private static nextId = 1;

  constructor(label = 'future') {
    this.id = Future.nextId++;
    this.label = label;
  }

  get state(): FutureState {
    return this.#state;
  }

  done(): boolean {
    return this.#state === 'finished' || this.#state === 'failed' || this.#state === 'cancelled';
  }

  running(): boolean {
    return this.#state === 'running';
  }

  cancelled(): boolean {
    return this.#state === 'cancelled';
  }

  /**
   * Cancels the task: a task still waiting is dropped; a running task's worker is
   * stopped and replaced. Returns false when the future is already done.
   */
  cancel(): boolean {
    if (this.done()) return false;
    this._owner?.cancelTask();
    if (!this.done()) this._cancel(new CancelledError(`task #${this.id} (${this.label}) was cancelled`));
    return true;
  }

  /** Resolves with the value, or rejects with the task's error; `timeout` in ms rejects with FutureTimeoutError. */
  result(options: { timeout?: number } = {}): Promise<T> {
    if (options.timeout === undefined) return this.#asPromise();
    return withTimeout(this.#asPromise(), options.timeout, () => `task #${this.id} (${this.label}) did not complete within ${options.timeout} ms`);
  }

  /** The task's error, or undefined when it succeeded. A cancelled future rejects with CancelledError. */
  exception(options: { timeout?: number } = {}): Promise<unknown> {
    const settled = new Promise<unknown>((resolve, reject) => {
      this.addDoneCallback((f) => {
        if (f.#state === 'cancelled') reject(f.#outcome);
        else resolve(f.#state === 'failed' ? f.#outcome : undefined);
      });
    });
    if (options.timeout === undefined) return settled;
    return withTimeout(settled, options.timeout, () => `task #${this.id} (${this.label}) did not complete within ${options.timeout} ms`);
  }

  /** Calls `callback(future)` when the future is done (at once if it already is). */
  addDoneCallback(callback: DoneCallback<T>): void {
    if (this.done()) {
      runCallback(callback, this);
      return;
    }
    const callbacks = this.#callbacks;
    if (callbacks === undefined) this.#callbacks = callback;
    else if (typeof callbacks === 'function') this.#callbacks = [callbacks, callback];
    else callbacks.push(callback);
  }

  then<R1 = T, R2 = never>(onFulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null, onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null): Promise<R1 | R2> {
    // A finished future awaited (a burst awaited in order): a promise for this call only, not
    // one kept on the future, which lives as long as the caller's list of futures does.
    if (this.#state === 'finished' && this.#promise === undefined) return Promise.resolve(this.#outcome as T).then(onFulfilled, onRejected);
    return this.#asPromise().then(onFulfilled, onRejected);
  }

  catch<R = never>(onRejected?: ((reason: unknown) => R | PromiseLike<R>) | null): Promise<T | R> {
    return this.#asPromise().catch(onRejected);
  }

  get [Symbol.toStringTag](): string {
    return `Future #${this.id} ${this.#state}`;
  }

  /** The value of a finished future (undefined otherwise); for code that already checked done(). */
  _valueIfDone(): { ok: true; value: T } | { ok: false; error: unknown; cancelled: boolean } | undefined {
    if (this.#state === 'finished') return { ok: true, value: this.#outcome as T };
    if (this.#state === 'failed' || this.#state === 'cancelled') return { ok: false, error: this.#outcome, cancelled: this.#state === 'cancelled' };
    return undefined;
  }

  _setRunning(): void {
    if (this.#state === 'pending') this.#state = 'running';
  }

  _setPending(): void {
    if (this.#state === 'running') this.#state = 'pending';
  }

  _resolve(value: T): boolean {
    if (this.done()) return false;
    this.#outcome = value;
    this.#state = 'finished';
    this.#complete();
    return true;
  }

  _reject(error: unknown): boolean {
    return this.#end('failed', error);
  }

  _cancel(error: unknown): boolean {
    return this.#end('cancelled', error);
  }

  /** Ends the future with an error, unless it has ended already. */
  #end(state: 'failed' | 'cancelled', error: unknown): boolean {
    if (this.done()) return false;
    this.#outcome = error;
    this.#state = state;
    this.#complete();
    return true;
  }

  #complete(): void {
    const owner = this._owner;
    this._owner = undefined;
    // The owner first: the executor forgets the task before user callbacks and awaiters run.
    if (owner) owner.onFutureDone();
    const callbacks = this.#callbacks;
    this.#callbacks = undefined;
    if (callbacks === undefined) return;
    if (typeof callbacks === 'function') runCallback(callbacks, this);
    else for (const callback of callbacks) runCallback(callback, this);
  }

  #asPromise(): Promise<T> {
    if (!this.#promise) {
      // Already done (the usual case when a burst is awaited in order): no callback to keep.
      if (this.#state === 'finished') return (this.#promise = Promise.resolve(this.#outcome as T));
      if (this.#state === 'failed' || this.#state === 'cancelled') return (this.#promise = Promise.reject(this.#outcome));
      this.#promise = new Promise<T>((resolve, reject) => {
        this.addDoneCallback((f) => (f.#state === 'finished' ? resolve(f.#outcome as T) : reject(f.#outcome)));
      });
    }
    return this.#promise;
  }
}

Object.defineProperty(Future.prototype, FUTURE_BRAND, { value: true });

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function runCallback(callback: DoneCallback<any>, future: Future<any>): void {
  try {
    callback(future);
  } catch (error) {
    // As in Python, a failing callback must not break the future or the other callbacks.
    process.emitWarning(`a done callback of task #${future.id} threw: ${(error as Error)?.message ?? String(error)}`, 'D4ExecutorWarning');
  }
}

function withTimeout<T>(promise: Promise<T>, timeoutMs: number, message: () => string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new FutureTimeoutError(message())), timeoutMs);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

export type ReturnWhen = 'FIRST_COMPLETED' | 'FIRST_EXCEPTION' | 'ALL_COMPLETED';
export const FIRST_COMPLETED: ReturnWhen = 'FIRST_COMPLETED';
export const FIRST_EXCEPTION: ReturnWhen = 'FIRST_EXCEPTION';
export const ALL_COMPLETED: ReturnWhen = 'ALL_COMPLETED';

/**
 * Waits for futures as Python's `concurrent.futures.wait` does and resolves with the
 * `done` and `notDone` sets. On timeout it resolves with what is done by then (no error).
 */
export function wait<T>(futures: Iterable<Future<T>>, options: { returnWhen?: ReturnWhen; timeout?: number } = {}): Promise<{ done: Set<Future<T>>; notDone: Set<Future<T>> }> {
  const returnWhen = options.returnWhen ?? 'ALL_COMPLETED';
  const all = [...new Set(futures)];
  const done = new Set<Future<T>>();
  const result = () => ({ done: new Set(done), notDone: new Set(all.filter((f) => !done.has(f))) });
  return new Promise((resolve) => {
    let finished = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = () => {
      if (finished) return;
      finished = true;
      if (timer) clearTimeout(timer);
      resolve(result());
    };
    const check = (f: Future<T>) => {
      done.add(f);
      if (returnWhen === 'FIRST_COMPLETED') finish();
      else if (returnWhen === 'FIRST_EXCEPTION' && (f.state === 'failed' || f.state === 'cancelled')) finish();
      if (done.size === all.length) finish();
    };
    if (all.length === 0) return finish();
    if (options.timeout !== undefined) timer = setTimeout(finish, options.timeout);
    for (const f of all) {
      if (finished) break;
      f.addDoneCallback(check);
    }
  });
}

/**
 * Yields futures as they complete (Python's `as_completed`): `for await (const f of
 * asCompleted(fs))`. With `timeout` (ms), throws FutureTimeoutError when some are still not
 * done after that long. (A hand-written iterator, because an async generator would await
 * each yielded future instead of yielding it.)
 */
export function asCompleted<T>(futures: Iterable<Future<T>>, options: { timeout?: number } = {}): AsyncIterableIterator<Future<T>> {
  const all = [...new Set(futures)];
  const completed: Future<T>[] = [];
  let wake: (() => void) | undefined;
  for (const f of all) {
    f.addDoneCallback((done) => {
      completed.push(done);
      wake?.();
    });
  }
  const deadline = options.timeout === undefined ? undefined : Date.now() + options.timeout;
  let yielded = 0;
  const iterator: AsyncIterableIterator<Future<T>> = {
    async next(): Promise<IteratorResult<Future<T>>> {
      if (yielded >= all.length) return { done: true, value: undefined };
      if (completed.length === 0) {
        let timer: NodeJS.Timeout | undefined;
        await new Promise<void>((resolve) => {
          wake = resolve;
          if (deadline !== undefined) timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
        });
        wake = undefined;
        if (timer) clearTimeout(timer);
        if (completed.length === 0) {
          const left = all.length - yielded;
          yielded = all.length;
          throw new FutureTimeoutError(`${left} of ${all.length} futures were not done within ${options.timeout} ms`);
        }
      }
      yielded++;
      return { done: false, value: completed.shift()! };
    },
    async return(): Promise<IteratorResult<Future<T>>> {
      yielded = all.length;
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
