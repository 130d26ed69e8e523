/**
 * Batching and flow-control constants shared by the driver and the workers. Items cross
 * threads in batches (one postMessage per batch, never per item), queues are bounded by
 * credits, and partial batches are flushed when a thread goes idle or after FLUSH_MS, so
 * slow PEs do not hold back items already made.
 */
export interface Tuning {
  /** Items per batch between workers (multi) or per task batch (dyn_*). */
  batchItems: number;
  /** Unacknowledged batches a sender may have towards one receiver (multi). */
  credit: number;
  /** A partial batch older than this is sent even while the sender is busy. */
  flushMs: number;
}

export const DEFAULT_TUNING: Tuning = {
  batchItems: 1024,
  credit: 4,
  flushMs: 2,
};

/** dyn_*: batches a worker may hold at once (one running, one waiting), so it never idles for a round trip. */
export const DYN_PREFETCH = 2;
/** dyn_*: task batch size. Smaller than multi's: a batch is the unit of load balancing. */
export const DYN_BATCH_ITEMS = 256;
/**
 * dyn_*: a worker's new tasks wait at most this long before going to the shared queue.
 * Longer than multi's: sending early helps only a worker with nothing to do, and the driver
 * asks for them at once when one idles (the steal flag). A short interval cut a CPU-bound
 * PE's output into batches of a few dozen tasks, each costing a round trip through the driver.
 */
export const DYN_FLUSH_MS = 50;
/** dyn_*: root calls are fed while fewer than this many tasks per worker copy are queued (bounded memory). */
export const DYN_QUEUED_PER_COPY = 2 * DYN_BATCH_ITEMS;
/** dyn_auto_multi: how often the driver looks at the queue to scale. */
export const AUTOSCALE_TICK_MS = 10;
