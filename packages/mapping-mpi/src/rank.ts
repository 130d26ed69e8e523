/**
 * Entry of every rank when d4 starts mpiexec itself (`d4 run mpi wf.ts -n 6` outside
 * mpiexec). Rank 0 fetches the job from the launcher's socket and drives the run; every
 * other rank serves its units, loading only the runtime's worker part.
 */
import { openWorld } from './world.js';

const exit = process.exit.bind(process);
const world = await openWorld();

if (world.rank !== 0) {
  process.on('unhandledRejection', (error) => {
    process.stderr.write(`d4: rank ${world.rank}: ${(error as Error)?.stack ?? String(error)}\n`);
    world.comm.abort(1);
  });
  const { serveOtherRank } = await import('./serve-rank.js');
  await serveOtherRank(world);
  exit(0);
} else {
  const { driveForLauncher } = await import('./launch/rank-zero.js');
  await driveForLauncher(world, exit);
}
