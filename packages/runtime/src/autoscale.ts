/**
 * Autoscaling policies of the dyn_auto_* mappings, as pure functions: the driver observes,
 * the rule decides how many workers are active, and a record keeps the changes over time.
 * Time comes in as a clock function, so tests run on a fake clock without sleeping.
 */

/** What the queue-length rule remembers between ticks. */
export interface QueueScalingState {
  active: number;
  /** Tasks waiting at the previous tick. */
  lastQueued: number;
}

/** What the driver of a pool sees at a tick. */
export interface QueueObservation {
  /** Tasks waiting: in the shared queue and in workers' prefetched, not yet started batches. */
  queued: number;
  /** Tasks in the batches workers are running (an upper bound of what is left of them). */
  running: number;
  /** Active workers that are ready and whose host holds no batch: they have nothing to run. */
  idleActive: number;
}

export interface QueueScalingLimits {
  /** Tasks waiting above which a worker is added (while the queue is not shrinking). */
  threshold: number;
  /** Workers that exist: the most that can be active. */
  max: number;
}

/**
 * dyn_auto_multi's rule. It grows by one while the queue is above the threshold and not
 * shrinking (dispel4py's rule), and also while tasks wait and no active worker is free to
 * take them, so that a CPU-bound job whose queue stays short gets every worker at once
 * instead of running serially (tasks wait also in a running batch of several: a new worker
 * asks for part of it). It shrinks by one only when nothing waits and an active worker has
 * nothing to do: dispel4py's rule shrank whenever the queue was below the threshold, which
 * ran the last few hundred tasks of every job (and whole short jobs) on a single worker
 * while the others idled.
 */
export function queueLengthRule(state: QueueScalingState, seen: QueueObservation, limits: QueueScalingLimits): QueueScalingState {
  const waiting = seen.queued > 0 || seen.running > state.active;
  const grow = (seen.queued > limits.threshold && seen.queued >= state.lastQueued) || (waiting && seen.idleActive === 0);
  let active = state.active;
  if (grow) active = Math.min(limits.max, active + 1);
  else if (!waiting && seen.idleActive > 0) active = Math.max(1, active - 1);
  return { active, lastQueued: seen.queued };
}

/** Active workers a queue-scaled run starts with: half the pool, rounded up. */
export function initialActiveWorkers(max: number): number {
  return Math.floor((max - 1) / 2) + 1;
}

/** One active worker as the idle-time rule sees it. */
export interface WorkerIdleness {
  /** The worker's rank: ranks below the active count are the active ones. */
  rank: number;
  /** Milliseconds since the worker finished its last item (0 while it works). */
  idleMs: number;
}

export interface IdleScalingLimits {
  /** Idle milliseconds after which one active worker is paused (dispel4py's -thr). */
  idleThreshold: number;
  /** Workers that exist: the most that can be active. */
  max: number;
}

/**
 * dispel4py's rule for dyn_auto_redis: one fewer active worker while an active one has been
 * idle for longer than the threshold, one more otherwise. With no live active worker (they
 * died) the pool grows as well.
 */
export function idleTimeRule(active: number, workers: readonly WorkerIdleness[], limits: IdleScalingLimits): number {
  const idle = workers.some((w) => w.rank < active && w.idleMs > limits.idleThreshold);
  if (idle) return Math.max(1, active - 1);
  return active < limits.max ? active + 1 : active;
}

/** One change of the number of active workers. */
export interface ActiveSample {
  /** Milliseconds since the run started. */
  atMs: number;
  active: number;
  /** Tasks waiting when it changed (queue-scaled mappings). */
  queued?: number;
  /** Tasks in the batches workers were running then, done or not (queue-scaled mappings). */
  running?: number;
}

/**
 * The changes of the active count over a run, timed from `startedAt` (default: when the
 * record is made). It keeps the first `cap` changes, so a long run that changes every tick
 * keeps constant memory, and counts them all.
 */
export class ScalingRecord {
  readonly samples: ActiveSample[];
  changes = 0;
  private readonly started: number;
  private last: number;
  private readonly cap: number;

  constructor(
    initial: number,
    private readonly clock: () => number,
    options: { cap?: number; withQueue?: boolean; startedAt?: number } = {},
  ) {
    this.started = options.startedAt ?? clock();
    this.cap = options.cap ?? 10_000;
    this.last = initial;
    this.samples = [options.withQueue ? { atMs: 0, active: initial, queued: 0, running: 0 } : { atMs: 0, active: initial }];
  }

  /** Records a change (and nothing when the count stayed the same), with what the rule saw. */
  note(active: number, seen?: { queued: number; running: number }): void {
    if (active === this.last) return;
    this.last = active;
    this.changes++;
    if (this.samples.length < this.cap) this.samples.push({ atMs: Math.round(this.clock() - this.started), active, ...(seen ? { queued: seen.queued, running: seen.running } : {}) });
  }

  /** The mean number of active workers over `totalMs` (the run's length), weighted by time. */
  mean(totalMs: number): number {
    const samples = this.samples;
    if (totalMs <= 0) return samples[samples.length - 1].active;
    let sum = 0;
    for (let i = 0; i < samples.length; i++) {
      const until = i + 1 < samples.length ? samples[i + 1].atMs : totalMs;
      sum += samples[i].active * Math.max(0, until - samples[i].atMs);
    }
    return sum / totalMs;
  }
}
