export { Executor, THREAD_ENV_VARS, type ExecutorOptions, type CallOptions, type Awaitable, type SubmitArgs } from './executor.js';
export { Future, wait, asCompleted, isFuture, FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED, type FutureState, type ReturnWhen, type DoneCallback } from './future.js';
export { task, taskRef, isTaskRef, type TaskRef, type AnyFunction } from './functions.js';
export type { MapOptions } from './map.js';
export type { DependencyGraphJSON } from './graph.js';
export { threadBackend, processBackend, type WorkerBackend, type WorkerHandle, type WorkerSpec, type WorkerEvents, type WorkerExit } from './backend.js';
export * from './errors.js';
export { ProcessGroup, multiJoin, GroupProcess, type ProcessTemplate, type ProcessGroupOptions, type ProcessExit, type StdioMode, type Joinable } from './process-group/index.js';
