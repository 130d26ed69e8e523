import type { RunProgress } from '@d4/core';
import type { FixedWorkerJob, WorkerMessage } from '@d4/runtime/worker';

/** How often a rank reports its units' call counts (the driver reads shared counters as often). */
export const PROGRESS_MS = 100;

/**
 * Live call counts of one rank's units. The runtime's counters are a SharedArrayBuffer the
 * driver reads, which ranks do not share: each rank gives its units counters of its own and
 * reports them to rank 0 as 'progress' messages (absolute counts per unit) on a timer, and
 * once more when its units are done.
 */
export function countCalls(job: FixedWorkerJob, report: (message: WorkerMessage) => void): { job: FixedWorkerJob; stop(): void } {
  const owners = job.units.map((u) => job.plan.units[u].peIds);
  const counters = owners.map((peIds) => ({ buffer: new SharedArrayBuffer(8 * Math.max(1, peIds.length)), slots: Object.fromEntries(peIds.map((id, i) => [id, i])) }));
  const views = counters.map((c) => new Float64Array(c.buffer));
  const send = () => job.units.forEach((unit, k) => report({ type: 'progress', source: unit, calls: Object.fromEntries(owners[k].map((id, i) => [id, views[k][i]])) }));
  const timer = setInterval(send, PROGRESS_MS);
  timer.unref();
  return {
    job: { ...job, counters },
    stop: () => {
      clearInterval(timer);
      send();
    },
  };
}

/** Rank 0: the units' latest counts added up per PE into the run's progress. */
export class ProgressTotals {
  private readonly byUnit: Array<Record<string, number>> = [];

  constructor(private readonly progress: RunProgress) {}

  update(unit: number, calls: Record<string, number>): void {
    this.byUnit[unit] = calls;
    const total: Record<string, number> = {};
    for (const counts of this.byUnit) if (counts) for (const [id, n] of Object.entries(counts)) total[id] = (total[id] ?? 0) + n;
    Object.assign(this.progress.calls, total);
  }
}
