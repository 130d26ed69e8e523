/**
 * A worker process the driver started on its own host: its settings come in the
 * D4_ZMQ_WORKER environment variable. It leaves when the driver says the run is over, or
 * when it loses the driver; Ctrl-C in a terminal reaches it too, but the driver decides
 * (it stops every worker), so SIGINT is ignored here.
 */
import { pathToFileURL } from 'node:url';
import { D4Error, guardProcessExit, peExitError } from '@d4/core';
import { runZmqWorker, type WorkerStart } from './worker.js';

export interface LocalWorkerStart extends WorkerStart {
  /** The driver's compiled copy of the workflow (the module the job will name). */
  preload?: string;
}

const { exit } = guardProcessExit((code, call) => {
  // The driver sees the exit and names this process; the PE and the item go to stderr.
  process.stderr.write(`d4 zmq_multi worker (pid ${process.pid}): ${peExitError(code, call, `its worker process (pid ${process.pid}, exit code ${code})`).message}\n`);
});
process.on('SIGINT', () => {});
process.on('SIGTERM', () => exit(143));

const start = JSON.parse(process.env.D4_ZMQ_WORKER ?? '{}') as LocalWorkerStart;
if (start.preload) {
  // Imported while the sockets are set up (and, when the job comes by message, while the
  // driver waits for every worker's hello): the job's rebuild then finds it loaded or
  // loading. A module that fails to load fails there again, with the loader's message
  // (which also maps PE stacks to the user's files).
  import(pathToFileURL(start.preload).href).catch(() => undefined);
}

// Not top-level await: the build runs this entry as a script with a V8 code cache
// (scripts/code-cache.mjs), and a script has none.
void (async () => {
  try {
    await runZmqWorker(start);
    exit(0);
  } catch (error) {
    // A run that failed is reported by the driver; anything else is said here.
    if (!(error instanceof D4Error && error.code === 'D4_ZMQ_RUN_FAILED')) process.stderr.write(`d4 zmq_multi worker (pid ${process.pid}): ${(error as Error).message}\n`);
    exit(1);
  }
})();
