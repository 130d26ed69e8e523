import { D4Error } from '@d4/core';
import { describeUnit, runFixedWorker, toWireError, type FixedBackend, type FixedLaunch, type Tuning, type WorkerMessage } from '@d4/runtime';
import { onRank, rankTransport, type RankJob } from './rank-transport.js';
import { TAG } from './tags.js';
import { receivedValue, sendValue, stopEveryRank, type World } from './world.js';

/**
 * Links between ranks pay per message (a send and a probe each, under MPI's locks, beside
 * the addon's progress thread), where threads pay per item: batches four times multi's
 * (pipeline_test's 4096 small items are ~19 KB, within the eager limit world.ts sets, so
 * a send completes at once and leaves no request for the progress thread to poll), and a
 * busy sender cuts a partial batch after 10 ms instead of 2. An idle sender still flushes
 * at once. pipeline_test -n 6, 100 000 items: ~1 200 messages became ~380, and the ranks'
 * CPU during the run went from ~1.9 s to ~1.2-1.3 s (bench/README.md).
 */
export const MPI_TUNING: Partial<Tuning> = { batchItems: 4096, flushMs: 10 };

/**
 * The `mpi` backend on rank 0: rank 0 is the driver and also worker 0, every other rank is
 * worker r (dispel4py's mpi mapping uses all n ranks for PE instances too). Launching sends
 * each rank its job; the ranks are already running (mpiexec started them).
 */
export function mpiBackend(world: World): FixedBackend {
  return {
    mapping: 'mpi',
    workerNoun: 'MPI ranks',
    tuning: MPI_TUNING,
    // Ranks are processes: each reports its call counts for the progress line (the runtime's reportCalls).
    sharesMemory: false,
    // The plan is made for the world's size (numProcesses), so every rank gets a share.
    workers: () => world.size,
    launch(launch: FixedLaunch) {
      let live = true;
      const broken = (error: unknown) => {
        if (live) launch.fail(error instanceof D4Error ? error : new D4Error('D4_MPI_ERROR', `an MPI send between ranks failed: ${(error as Error).message}`, { cause: error }));
      };
      const units = (w: number) => launch.jobs[w].units.map((u) => describeUnit(launch.plan, u)).join('; ');
      const deliver = (w: number, message: WorkerMessage) => {
        if (live) launch.deliver(w, message);
      };
      for (let w = 1; w < world.size; w++) {
        world.mailbox.on(w, TAG.report, (bytes) => deliver(w, receivedValue<WorkerMessage>(bytes)));
        const job: RankJob = { job: launch.jobs[w], workerOf: launch.workerOf };
        sendValue(world, job, w, TAG.job).catch(broken);
      }
      // Rank 0's own worker reports to the driver on a later turn, as a message would arrive.
      const report = (message: WorkerMessage) => queueMicrotask(() => deliver(0, message));
      runFixedWorker(launch.jobs[0], rankTransport(world, launch.workerOf, report, broken)).catch((error: unknown) => {
        report({ type: 'error', error: onRank(toWireError(error), world) });
      });
      return {
        label: (w: number) => `rank ${w}${launch.jobs[w]?.units.length ? ` (${units(w)})` : ''}`,
        stop: () => {
          live = false;
          return stopEveryRank(world);
        },
      };
    },
  };
}
