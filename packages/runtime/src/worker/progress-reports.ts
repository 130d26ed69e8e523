import { PROGRESS_READ_MS, type CounterSlots } from '../driver/call-counters.js';
import type { FixedWorkerJob } from './fixed-unit.js';
import type { Report } from './result-sink.js';

/**
 * Live call counts of a worker that does not share memory with the driver (a process, an
 * MPI rank, another host): the runtime's shared counters cannot reach the driver from
 * there, so this worker's units count into counters of their own, and the worker reports
 * them as 'progress' messages (absolute counts per unit) on a timer, and once more just
 * before each unit's 'done'. The driver adds them up per PE (DriverReports).
 */
export function reportCalls(job: FixedWorkerJob, report: Report): { counters: CounterSlots[]; last(unit: number): void; stop(): void } {
  const owners = job.units.map((u) => job.plan.units[u].peIds);
  const counters = owners.map((peIds) => ({ buffer: new SharedArrayBuffer(8 * Math.max(1, peIds.length)), slots: Object.fromEntries(peIds.map((id, i) => [id, i])) }));
  const views = counters.map((c) => new Float64Array(c.buffer));
  const sendUnit = (unit: number, k: number) => report({ type: 'progress', source: unit, calls: Object.fromEntries(owners[k].map((id, i) => [id, views[k][i]])) });
  const send = () => job.units.forEach(sendUnit);
  // A unit in one long synchronous call holds this timer back; its counts still land and go with the next tick.
  const timer = setInterval(send, PROGRESS_READ_MS);
  timer.unref();
  return {
    counters,
    // A unit's final counts, sent just before its 'done': after 'done' the driver may end
    // the run, and a report sent then would never be read (MPI: a message left unreceived
    // at MPI_Finalize, which MPICH's UCX prints a warning about).
    last: (unit) => sendUnit(unit, job.units.indexOf(unit)),
    stop: () => clearInterval(timer),
  };
}
