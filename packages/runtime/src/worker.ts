/**
 * `@d4/runtime/worker`: what a worker thread or process needs, apart from the drivers, so
 * that a worker loads a small module (each worker thread of a parallel mapping imports it
 * before it can run a PE).
 */
export { runFixedWorker, unitLinks } from './worker/fixed-worker.js';
export { KeyedInbox } from './worker/keyed-inbox.js';
export type { FixedWorkerJob } from './worker/fixed-unit.js';
export { runPoolWorker, type PoolTransport, type PoolWorkerJob } from './worker/pool-worker.js';
export { toWireError, type WireError } from './wire-errors.js';
export type { FixedTransport, Link } from './transport.js';
export type { LinkFrame, PoolCommand, PoolReply, WorkerMessage } from './protocol.js';
export { ACK, END_OF_STREAM } from './protocol.js';
