/**
 * Entry of every worker thread of this package. The driver passes what to run in
 * workerData; the worker rebuilds the graph from its module and runs its part. Any error
 * is reported to the driver, which stops every worker and fails the run.
 */
import { parentPort, threadId, workerData } from 'node:worker_threads';
import { guardProcessExit, peExitError } from '@d4/core';
import { runFixedWorker, runPoolWorker, toWireError } from '@d4/runtime/worker';
import type { FixedThreadData } from './multi.js';
import type { PoolThreadData } from './dynamic.js';
import { poolThreadTransport, post, threadTransport } from './thread-transport.js';

const data = workerData as FixedThreadData | PoolThreadData;

function report(error: unknown): void {
  post({ type: 'error', error: toWireError(error) });
}

process.on('unhandledRejection', report);
// process.exit() in a worker thread ends only the thread: the driver would see an exit code
// and no culprit. The PE, the item and the code go to the driver first (a message posted
// before the thread ends is delivered before its 'exit' event).
guardProcessExit((code, call) => report(peExitError(code, call, `its worker thread (thread ${threadId}, exit code ${code})`)));
// Stay alive until the driver ends the thread: when a peer thread dies, this thread then
// waits (and is terminated) instead of exiting on its own and blurring which one failed.
parentPort!.on('message', () => {});

// Not top-level await: the build runs this entry as a script with a V8 code cache
// (scripts/code-cache.mjs), and a script has none.
void (async () => {
  try {
    if (data.kind === 'fixed') await runFixedWorker(data.job, threadTransport(data.ports));
    else await runPoolWorker(data.job, poolThreadTransport());
  } catch (error) {
    report(error);
  }
})();
