/**
 * The pieces of an at-least-once worker loop (Redis Streams): an input source that hands
 * over batches with the transport's acknowledgements, a commit point after each batch, an
 * instance factory (lazy, pinned units lost on takeover) and closing by command.
 */
export { LazyInstances, ownPEs, type InstanceSetup, type PEInstance } from './instances.js';
export { CommittedBatches, runCommittedLoop, type BatchFigures, type BatchSource, type CommitPointOptions, type CommitReports, type InputEntry } from './committed-batches.js';
export { connectedPorts, routeWrite, writeRoutes, type EdgeDestination, type WriteRoute } from './write-routes.js';
export { ResultGroups, cappedBatches } from './result-groups.js';
