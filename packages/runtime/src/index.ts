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
export * from './protocol.js';
export type { CommitOutcome, CommitTransport, FixedTransport, Link, MemberEvent } from './transport.js';
export { FlushClock } from './worker/flush-clock.js';
export { ResultSink, ownBytes, oldestSince, heapMb, reportingLog, type Report } from './worker/result-sink.js';
export * from './worker/tuning.js';
export { FixedUnit, type FixedWorkerJob } from './worker/fixed-unit.js';
export { runFixedWorker, unitLinks, type UnitLinks } from './worker/fixed-worker.js';
export { KeyedInbox } from './worker/keyed-inbox.js';
export { boolOption, resultMode } from './options.js';
export { DriverReports } from './driver/reports.js';
export { RunControl } from './driver/run-control.js';
export { Membership } from './driver/membership.js';
export { runFixedJob, type FixedBackend, type FixedLaunch, type LaunchedWorkers } from './driver/fixed-job.js';
export { memoryBackend, memoryMapping, memoryPoolMapping } from './memory.js';
export { HeldBatches } from './driver/held-batches.js';
export { runPoolJob, DEFAULT_THRESHOLD, type PoolBackend, type PoolLaunch, type LaunchedPool } from './driver/pool-job.js';
export { runPoolWorker, type PoolTransport, type PoolWorkerJob } from './worker/pool-worker.js';
export { CallCounters, PROGRESS_READ_MS, type CounterSlots } from './driver/call-counters.js';
export { HeapGuard } from './worker/heap-guard.js';
export * from './worker/committed/index.js';
export * from './driver/committed/index.js';
export { LocalProcesses, exitReason, pause, type LocalProcess, type LocalProcessesSetup } from './driver/local-processes.js';
