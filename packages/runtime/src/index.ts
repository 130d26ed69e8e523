/**
 * `@d4/runtime`: what every distributed mapping shares. A backend package imports this
 * (never `@d4/core/internal` directly) and supplies only its transport.
 */
export * from '@d4/core/internal';
export { prepareWorkerSource, workerExecArgv, withoutTsxFlags } from './worker-module.js';
export { toWireError, fromWireError, type WireError } from './wire-errors.js';
export { checkSameGraph } from './graph-check.js';
export * from './plans/index.js';
export * from './autoscale.js';
