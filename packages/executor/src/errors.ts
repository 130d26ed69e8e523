import { D4Error, type D4ErrorCode } from '@d4/core';

/**
 * Errors of the executor. Each has a stable `code` (D4_…) so that programs can react to
 * it; the message says what happened, to which task, and what to do.
 */

/** The future was cancelled (by `cancel()`, by `shutdown({ cancelFutures: true })`, or because an upstream future was). */
export class CancelledError extends D4Error {
  constructor(message: string) {
    super('D4_CANCELLED', message);
  }
}

/** `result({ timeout })` or `wait(…, { timeout })` gave up waiting; the task itself goes on. */
export class FutureTimeoutError extends D4Error {
  constructor(message: string) {
    super('D4_FUTURE_TIMEOUT', message);
  }
}

/** The task function threw or rejected in its worker. `cause` carries the remote error's name, message and stack. */
export class TaskError extends D4Error {
  readonly taskId: number;
  constructor(taskId: number, message: string, cause: unknown) {
    super('D4_TASK_FAILED', message, { cause });
    this.taskId = taskId;
  }
}

/**
 * A future given as an argument failed; `cause` is the upstream error (for a chain, another
 * DependencyError, down to the first failure). `rootMessage` is the first failure's message, so
 * that messages stay short however long the chain is.
 */
export class DependencyError extends D4Error {
  readonly rootMessage: string;
  constructor(message: string, cause: unknown, rootMessage: string) {
    super('D4_DEPENDENCY_FAILED', message, { cause });
    this.rootMessage = rootMessage;
  }
}

/** The task ran longer than its `timeout`; its worker was stopped and replaced. */
export class TaskTimeoutError extends D4Error {
  constructor(message: string) {
    super('D4_TASK_TIMEOUT', message);
  }
}

/** The worker running the task died (crash, exit, kill) more often than `maxRetries` allows. */
export class WorkerCrashedError extends D4Error {
  constructor(message: string) {
    super('D4_WORKER_CRASHED', message);
  }
}

/**
 * The task's function cannot be rebuilt in a worker: it is a built-in or bound function,
 * it uses a variable or import the worker does not have, or its module/export is missing.
 * `code` says which (D4_TASK_NOT_SHIPPABLE, D4_TASK_NOT_SELF_CONTAINED, D4_TASK_IMPORT, D4_TASK_EXPORT).
 */
export class TaskFunctionError extends D4Error {
  constructor(code: D4ErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** The `init` function failed in a worker; the executor is broken and fails every task. */
export class InitError extends D4Error {
  constructor(message: string, cause?: unknown) {
    super('D4_INIT_FAILED', message, { cause });
  }
}

/** `submit`/`map` after `shutdown()`. */
export class ExecutorShutdownError extends D4Error {
  constructor(message: string) {
    super('D4_EXECUTOR_SHUTDOWN', message);
  }
}

/** A task asks for more cores or GPUs than the executor has, or for resources block allocation cannot give. */
export class ResourceError extends D4Error {
  constructor(message: string) {
    super('D4_RESOURCES', message);
  }
}

/** The error a task threw in its worker, rebuilt in the caller with its original name, message, code and stack. */
export class RemoteError extends Error {
  readonly code: string | undefined;
  constructor(name: string, message: string, stack: string | undefined, code: string | undefined) {
    super(message);
    this.name = name;
    this.code = code;
    if (stack) this.stack = stack;
  }
}
