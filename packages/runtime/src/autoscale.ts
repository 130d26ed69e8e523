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

export interface QueueScalingLimits {
  /** Tasks waiting above which a worker is added (while the queue is not shrinking). */
  threshold: number;
  /** Workers that exist: the most that can be active. */
  max: number;
}

/**
 * dispel4py's rule for dyn_auto_multi: one more active worker while the queue is above the
 * threshold and not shrinking, one fewer otherwise (never below one).
 */
export function queueLengthRule(state: QueueScalingState, queued: number, limits: QueueScalingLimits): QueueScalingState {
  let active = state.active;
  if (queued > limits.threshold && queued >= state.lastQueued) {
    if (active < limits.max) active++;
  } else if (active > 1) active--;
  return { active, lastQueued: queued };
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
    this.samples = [options.withQueue ? { atMs: 0, active: initial, queued: 0 } : { atMs: 0, active: initial }];
  }

  /** Records a change (and nothing when the count stayed the same). */
  note(active: number, queued?: number): void {
    if (active === this.last) return;
    this.last = active;
    this.changes++;
    if (this.samples.length < this.cap) this.samples.push({ atMs: Math.round(this.clock() - this.started), active, ...(queued !== undefined ? { queued } : {}) });
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
