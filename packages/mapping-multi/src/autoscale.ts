/** What the autoscaler of dyn_auto_multi looks at, every AUTOSCALE_TICK_MS. */
export interface ScaleInputs {
  /** Tasks waiting: in the shared queue and in copies' prefetched, not yet started batches. */
  queued: number;
  /** Tasks in the batches copies are running (an upper bound of what is left of them). */
  running: number;
  /** `queued` at the previous tick. */
  lastQueued: number;
  /** Active copies that are ready and whose thread holds no batch: they have nothing to run. */
  idleActive: number;
  active: number;
  size: number;
  threshold: number;
}

/**
 * The number of active copies for the next tick. It grows by one while the queue is above
 * the threshold and not shrinking (dispel4py's rule), and also while tasks wait and no active
 * copy is free to take them, so that a CPU-bound job whose queue stays short gets every copy
 * at once instead of running serially (tasks wait also in a running batch of several: a new
 * copy asks for part of it). It shrinks by one only when nothing waits and an
 * active copy has nothing to do (an idle copy next to a running batch of several tasks asks
 * for part of it instead): dispel4py's rule shrank whenever the queue was below the
 * threshold, which ran the last few hundred tasks of every job (and whole short jobs) on a
 * single copy while the others idled.
 */
export function nextActive(s: ScaleInputs): number {
  // A running batch of several tasks can be split for a new copy (dyn_*'s steal requests).
  const waiting = s.queued > 0 || s.running > s.active;
  const grow = (s.queued > s.threshold && s.queued >= s.lastQueued) || (waiting && s.idleActive === 0);
  if (grow) return Math.min(s.size, s.active + 1);
  if (!waiting && s.idleActive > 0) return Math.max(1, s.active - 1);
  return s.active;
}
