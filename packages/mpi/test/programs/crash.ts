// A rank that dies of an uncaught error while the others wait: mpiexec must end the job.
import { MPI } from '../../src/index.js';
import { report } from './report.js';

const world = await MPI.init();
report(world.rank, { started: true });
if (world.rank === 1) {
  setTimeout(() => {
    throw new Error('rank 1 fails on purpose');
  }, 10);
} else {
  await world.recv({ source: 1 }); // never sent
  report(world.rank, { finished: true });
}
