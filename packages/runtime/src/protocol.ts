import type { PEStats, RunOutputCounts } from '@d4/core';
import type { WireError } from './wire-errors.js';

/**
 * What workers tell the driver, whatever the transport: one typed union, decoded in one
 * place (`DriverReports`). `source` names what sent it: a unit of a fixed plan, a worker
 * of a pool, so that counters from several sources in one thread or process add up.
 */
export type WorkerMessage =
  /** A worker has rebuilt the graph and is about to start. */
  | { type: 'ready'; source: number }
  /** Values written to unconnected outputs: `encodeBatch([resultIndex, value, …])`. */
  | { type: 'results'; bytes: Uint8Array }
  /** A PE's log() line. */
  | { type: 'log'; peId: string; instance: number; message: string }
  /** process() calls so far per PE id, of one source (absolute, not a delta). */
  | { type: 'progress'; source: number; calls: Record<string, number> }
  /** A unit has finished: its figures. */
  | { type: 'done'; source: number; stats: Record<string, PEStats>; counts?: RunOutputCounts; peakHeapMb: number; batchesSent: number; itemsSent: number }
  /** A worker failed: the run fails with this error. */
  | { type: 'error'; error: WireError };

/**
 * What crosses a link between two units of a fixed plan, in order: batches and end of
 * stream go downstream, acknowledgements upstream. A batch is a flat list
 * `[targetIndex, value, targetIndex, value, …]`: an array between units of one worker (by
 * reference, as between PEs in `simple`), its `encodeBatch` bytes across workers.
 */
export type LinkFrame = Uint8Array | unknown[] | typeof END_OF_STREAM | typeof ACK;

/** The receiver has processed one batch: the sender may send one more. */
export const ACK = 1;
/** The sender has sent its last batch on this link. */
export const END_OF_STREAM = 'eos';

/** What the driver of a shared pool sends a worker. */
export type PoolCommand =
  /** A batch of tasks `encodeBatch([targetIndex, value, …])` to run. */
  | { type: 'batch'; worker: number; bytes: Uint8Array }
  /** Run postprocess() of this PE (one close wave: PE by PE in graph order). */
  | { type: 'post'; worker: number; peId: string }
  /** Send the final figures and end. */
  | { type: 'finish'; worker: number };

/** What a worker of a shared pool tells its driver, besides the runtime's reports. */
export type PoolReply =
  /**
   * New tasks for the shared queue (`bytes` of `n` tasks, absent when none): after
   * preprocess ('ready'), during or at the end of a batch ('tasks'; `done` when the batch is
   * finished, `answered` when it answers a request for work), after a postprocess ('posted').
   */
  | { type: 'ready' | 'tasks' | 'posted'; worker: number; bytes?: Uint8Array; n: number; done: boolean; answered?: boolean }
  /** The worker's final figures. */
  | { type: 'final'; worker: number; stats: Record<string, PEStats>; counts?: RunOutputCounts; peakHeapMb: number };
