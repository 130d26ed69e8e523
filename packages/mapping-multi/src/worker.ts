/**
 * Entry of every worker thread of this package. The driver passes what to run in
 * workerData; the worker rebuilds the graph from its module and runs its part. Any error
 * is reported to the driver, which stops every worker and fails the run.
 */
import { workerData } from 'node:worker_threads';
import { runMultiWorker, type MultiWorkerData } from './multi-worker.js';
import { runDynWorker, type DynWorkerData } from './dyn-worker.js';
import { toWireError } from './wire-errors.js';
import { post } from './worker-context.js';

const data = workerData as MultiWorkerData | DynWorkerData;

function report(error: unknown): void {
  post({ type: 'error', error: toWireError(error) });
}

process.on('unhandledRejection', report);

try {
  if (data.kind === 'multi') await runMultiWorker(data);
  else await runDynWorker(data);
} catch (error) {
  report(error);
}
