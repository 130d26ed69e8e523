import { runFixedWorker, toWireError, type WorkerMessage } from '@d4/runtime/worker';
import { onRank, rankTransport, type RankJob } from './rank-transport.js';
import { TAG } from './tags.js';
import { closeWorld, receivedValue, sendValue, type World } from './world.js';

/**
 * Every rank but 0: waits for its job (or the end, when rank 0 failed before launching),
 * runs its units, reports to rank 0, and returns when rank 0 says the run is over.
 */
export async function serveRank(world: World): Promise<void> {
  const report = (message: WorkerMessage) => {
    sendValue(world, message, 0, TAG.report).catch(() => {
      // Rank 0 is gone: mpiexec ends this rank too.
    });
  };
  const job = await Promise.race([new Promise<RankJob>((resolve) => world.mailbox.on(0, TAG.job, (bytes) => resolve(receivedValue<RankJob>(bytes)))), world.mailbox.done.then(() => undefined)]);
  if (job) {
    const fail = (error: unknown) => {
      report({ type: 'error', error: onRank(toWireError(error), world) });
    };
    runFixedWorker(job.job, rankTransport(world, job.workerOf, report, fail)).catch(fail);
  }
  await world.mailbox.done;
}

/** Every other rank: serves its units until rank 0 ends the run, then finalizes. */
export async function serveOtherRank(world: World): Promise<void> {
  await serveRank(world);
  await closeWorld(world);
}
