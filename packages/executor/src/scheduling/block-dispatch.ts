/**
 * Block allocation's dispatch: a fixed table of workers, each keeping a queue of tasks sized
 * from its measured task time.
 */

const MAX_QUEUED_IN_WORKER = 512;
/**
 * The bound while the executor's queue is deep (it holds this many tasks per worker or more):
 * every worker will be kept busy anyway, and four times fewer messages, result batches and
 * wake-ups of a drained worker per task leave the caller's thread more of the CPU (a burst of
 * trivial tasks: 1.2–1.4 wake-ups per 1 000 tasks instead of 3.9–6). Still at most about
 * TARGET_QUEUED_MS of measured work.
 */
export const MAX_QUEUED_DEEP = 2048;
/** Queue enough tasks in a worker to cover about this much work, so messages never leave it idle. */
const TARGET_QUEUED_MS = 2;

/** What the strategy looks at in a worker. */
export interface LoadedWorker {
  /** Tasks sent and not answered. */
  readonly inflight: { readonly length: number };
  /** Measured time per task (ms), undefined before the first result. */
  readonly avgMs: number | undefined;
}

/**
 * How many tasks a worker may hold. Until a task has been timed, one at a time: long tasks
 * must not pile up behind each other while another worker idles. Short tasks get a deeper
 * queue so the worker never waits for a message: up to `max` (MAX_QUEUED_IN_WORKER, or
 * MAX_QUEUED_DEEP while the executor's queue is deep, see queueBound).
 */
export function depthOf(avgMs: number | undefined, max = MAX_QUEUED_IN_WORKER): number {
  if (avgMs === undefined) return 1;
  return Math.max(1, Math.min(max, Math.floor(TARGET_QUEUED_MS / Math.max(avgMs, 0.001))));
}

/** The most tasks a worker may hold in this dispatch, from the number of tasks queued in the executor and the number of workers. */
export function queueBound(queued: number, workers: number): number {
  return queued >= MAX_QUEUED_DEEP * workers ? MAX_QUEUED_DEEP : MAX_QUEUED_IN_WORKER;
}

/** The worker with the fewest tasks among those below their depth (the first one on a tie); undefined when all are full. */
export function leastLoaded<W extends LoadedWorker>(workers: readonly W[], max = MAX_QUEUED_IN_WORKER): W | undefined {
  let best: W | undefined;
  for (let i = 0; i < workers.length; i++) {
    const worker = workers[i];
    const load = worker.inflight.length;
    if (load < depthOf(worker.avgMs, max) && (!best || load < best.inflight.length)) best = worker;
  }
  return best;
}

/** The measured time per task after a batch of results: a moving average that follows a change within a few batches. */
export function nextAverage(previous: number | undefined, perTask: number): number {
  return previous === undefined ? perTask : previous * 0.7 + perTask * 0.3;
}
