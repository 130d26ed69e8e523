// MPI used from a worker thread (as the executor's MPI-parallel tasks do): the worker
// initialises MPI and runs collectives; the main thread, of the same process, cannot
// initialise it a second time.
import { Worker } from 'node:worker_threads';
import { MPI } from '../../src/index.js';
import { main, report } from './report.js';

main(async () => {
  const worker = new Worker(new URL('./worker-thread.mjs', import.meta.url));
  const fromWorker = await new Promise<{ rank: number; size: number; sum: number; gathered?: string[] }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  let second: [string, string];
  try {
    await MPI.init();
    second = ['no error', ''];
  } catch (error) {
    const { code, message } = error as { code: string; message: string };
    second = [code, message];
  }
  worker.postMessage('finish');
  await new Promise((resolve) => worker.once('exit', resolve));
  report(fromWorker.rank, { ...fromWorker, second });
});
