import type { RunProgress } from '@d4/core';

/** How often the driver adds up the workers' call counters into RunOptions.progress. */
export const PROGRESS_READ_MS = 100;

/** Where one unit (fixed plans) or worker (pools) publishes its PEs' call counts. */
export interface CounterSlots {
  buffer: SharedArrayBuffer;
  /** Slot of each PE id of that unit or worker. */
  slots: Record<string, number>;
}

/**
 * The process() call counts of a run's workers, live: one Float64 slot per (unit or worker, PE)
 * in a SharedArrayBuffer that every worker's engine writes on each call (EngineConfig's
 * callCounters) and the driver reads on a timer. A worker busy in one long batch, or in one
 * slow synchronous PE, cannot run timers or post messages, but its stores still land, so
 * the progress line moves with the work and not with the batches.
 */
export class CallCounters {
  readonly buffer: SharedArrayBuffer;
  private readonly view: Float64Array;
  private readonly peOfSlot: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** The slots of each owner, in the order given to the constructor. */
  readonly slotsOf: ReadonlyArray<Record<string, number>>;

  /** `owners[i]` lists the PE ids that unit or worker `i` runs. */
  constructor(owners: ReadonlyArray<readonly string[]>) {
    for (const peIds of owners) this.peOfSlot.push(...peIds);
    this.buffer = new SharedArrayBuffer(8 * Math.max(1, this.peOfSlot.length));
    this.view = new Float64Array(this.buffer);
    let next = 0;
    this.slotsOf = owners.map((peIds) => Object.fromEntries(peIds.map((id) => [id, next++])));
  }

  /** What owner `i` hands to its engine. */
  forOwner(i: number): CounterSlots {
    return { buffer: this.buffer, slots: this.slotsOf[i] };
  }

  /** Copies the sums per PE into `progress` now. */
  read(progress: RunProgress): void {
    const total: Record<string, number> = {};
    for (let slot = 0; slot < this.peOfSlot.length; slot++) {
      const id = this.peOfSlot[slot];
      total[id] = (total[id] ?? 0) + this.view[slot];
    }
    Object.assign(progress.calls, total);
  }

  /** Reads into `progress` every PROGRESS_READ_MS until stop(); nothing when there is no progress to keep. */
  start(progress: RunProgress | undefined): void {
    if (!progress) return;
    this.read(progress);
    this.timer = setInterval(() => this.read(progress), PROGRESS_READ_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
