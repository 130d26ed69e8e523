// The worker thread of worker.ts, plain JavaScript on the built package (tsx does not load
// TypeScript inside worker threads on Node 20).
import { parentPort } from 'node:worker_threads';
import { MPI } from '../../dist/index.js';

const world = await MPI.init();
const sum = await world.allreduce(world.rank + 1, 'sum');
const gathered = await world.gather(`rank ${world.rank} in a worker`, 0);
parentPort.postMessage({ rank: world.rank, size: world.size, sum, gathered });
await new Promise((resolve) => parentPort.once('message', resolve));
await MPI.finalize();
