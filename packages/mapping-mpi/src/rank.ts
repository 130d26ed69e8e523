/**
 * Entry of every rank when d4 starts mpiexec itself (`d4 run mpi wf.ts -n 6` outside
 * mpiexec). Rank 0 fetches the job from the launcher's socket and drives the run; every
 * other rank serves its units, loading only the runtime's worker part.
 */
import { pathToFileURL } from 'node:url';
import { openWorld } from './world.js';

const exit = process.exit.bind(process);
// While MPI_Init waits for every rank, import what this rank will need: the workflow (its
// job names the same file, which is then in the module cache) and its half of the mapping.
// The launcher sets the rank's number before MPI_Init.
const launcherRank = process.env.OMPI_COMM_WORLD_RANK ?? process.env.PMIX_RANK ?? process.env.PMI_RANK;
const preload = process.env.D4_MPI_PRELOAD;
const warming = Promise.all([
  preload ? import(pathToFileURL(preload).href).catch(() => undefined) : undefined,
  launcherRank === '0' ? import('./launch/rank-zero.js') : import('./serve-rank.js'),
]);
const world = await openWorld();
await warming.catch(() => undefined);

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
