import { D4Error } from '@d4/core';
import { describeUnit, runFixedWorker, toWireError, type FixedBackend, type FixedLaunch, type WorkerMessage } from '@d4/runtime';
import { onRank, rankTransport, type RankJob } from './rank-transport.js';
import { TAG } from './tags.js';
import { receivedValue, sendValue, stopEveryRank, type World } from './world.js';

/**
 * The `mpi` backend on rank 0: rank 0 is the driver and also worker 0, every other rank is
 * worker r (dispel4py's mpi mapping uses all n ranks for PE instances too). Launching sends
 * each rank its job; the ranks are already running (mpiexec started them).
 */
export function mpiBackend(world: World): FixedBackend {
  return {
    mapping: 'mpi',
    workerNoun: 'MPI ranks',
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
      let stopped: Promise<void> | undefined;
      return {
        label: (w: number) => `rank ${w}${launch.jobs[w]?.units.length ? ` (${units(w)})` : ''}`,
        stop: () => {
          live = false;
          stopped ??= stopEveryRank(world);
          return stopped;
        },
      };
    },
  };
}
