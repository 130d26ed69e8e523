import { CodecError, isD4ErrorCode } from '@d4/core';
import { RemoteError, TaskError, TaskFunctionError, WorkerCrashedError } from './errors.js';
import type { ErrorInfo } from './protocol.js';
import type { WorkerExit } from './backend.js';
import type { Task } from './task.js';

/** The error a task's future fails with when its worker answered with an error. */
export function taskError(task: Task, info: ErrorInfo): Error {
  if (info.d4) {
    if (info.code === 'D4_CODEC') return new CodecError(info.message);
    return new TaskFunctionError(isD4ErrorCode(info.code) ? info.code : 'D4_TASK_NOT_SHIPPABLE', info.message);
  }
  return new TaskError(task.future.id, `task #${task.future.id} (${task.fn.label}) failed: ${info.name}: ${info.message}`, remoteError(info, task.fn.mapStack));
}

export function remoteError(info: ErrorInfo, mapStack?: (stack: string) => string): RemoteError {
  return new RemoteError(info.name, info.message, info.stack && mapStack ? mapStack(info.stack) : info.stack, info.code);
}

/** How a worker ended, as the end of a sentence ("the worker 3 … was killed by SIGKILL"). */
export function describeExit(info: WorkerExit): string {
  if (info.error) return `threw ${info.error.name}: ${info.error.message} outside any task`;
  if (info.detail && info.code === null && info.signal === null) return `ended: ${info.detail}`;
  const how = info.signal ? `was killed by ${info.signal}` : `exited with code ${info.code}`;
  return info.detail ? `${how} (${info.detail})` : how;
}

export function crashError(task: Task, backend: string, workerId: number, how: string): WorkerCrashedError {
  return new WorkerCrashedError(
    `the ${backend} worker ${workerId} running task #${task.future.id} (${task.fn.label}) ${how}; the task ran ${task.attempts} time(s) (maxRetries ${task.maxRetries}); ` +
      `a task that exits or crashes takes its worker with it: look for the cause in the worker's output, or raise maxRetries if the crash is intermittent. The worker was replaced.`,
  );
}
