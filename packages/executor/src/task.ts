import type { Future } from './future.js';
import type { FunctionInfo } from './functions.js';
import type { TaskResources } from './resources.js';
import type { Slot } from './worker-slots.js';

/** One submitted call, from submit() until its future completes. */
export interface Task extends TaskResources {
  future: Future<unknown>;
  fn: FunctionInfo;
  args: unknown[];
  /** args is a list of argument lists (a chunk of map()); the result is the list of results. */
  chunk: boolean;
  /** Times it was sent to a worker (a crash retries while attempts ≤ maxRetries). */
  attempts: number;
  state: 'waiting' | 'caching' | 'queued' | 'running' | 'done';
  slot: Slot | undefined;
  timer: NodeJS.Timeout | undefined;
  cacheKey: string | undefined;
}
