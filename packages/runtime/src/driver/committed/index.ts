/**
 * The driver side of an at-least-once job (Redis Streams): the roots fed in the driver
 * through the transport's outbox, exact termination by close waves on in-flight counters,
 * and the workers' final reports as stats.
 */
export { CloseWaves, type CloseWaveLink } from './close-waves.js';
export { DriverRoots, type DriverRootsSetup, type RootOutbox } from './driver-roots.js';
export { memberReport, memberStats, type MemberReport } from './member-reports.js';
