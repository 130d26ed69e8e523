// A script that ends without MPI.finalize(): it is finalised on 'beforeExit', so mpiexec
// sees every rank end well.
import { MPI } from '../../src/index.js';
import { report } from './report.js';

const world = await MPI.init();
const { rank } = world;
report(rank, { sum: await world.allreduce(rank + 1, 'sum') });
process.on('exit', () => report(rank, { initializedAtExit: MPI.initialized }));
