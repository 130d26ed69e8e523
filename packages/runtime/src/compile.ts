/**
 * `@d4/runtime/compile`: compiling a workflow for workers, on its own, so that the CLI's
 * warm start (a cached compiled workflow, nothing to compile) loads this small module and
 * not the whole runtime. esbuild itself is imported only when something must be compiled.
 */
export { prepareWorkerSource, workerExecArgv, withoutTsxFlags } from './worker-module.js';
