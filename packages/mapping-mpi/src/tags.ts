import { D4Error } from '@d4/core';

/**
 * MPI tags of the mapping's messages. MPI keeps messages of one sender and tag in order,
 * so each direction of each link between units has a tag of its own: frames arrive in the
 * order they were sent, whatever else the two ranks exchange.
 */
export const TAG = {
  /** Rank 0 → rank w: the worker job of rank w. */
  job: 1,
  /** Rank w → rank 0: one WorkerMessage (ready, results, log, progress, done, error). */
  report: 2,
  /** Rank 0 → every rank (itself included): the run is over, leave the receive loop. */
  stop: 3,
} as const;

const FIRST_LINK_TAG = 16;
/** The largest tag every MPI library accepts (MPI_TAG_UB is at least this). */
const MAX_PORTABLE_TAG = 32767;

/** The tag of frames on the link from unit `from` to unit `to`: batches and end of stream downstream, acknowledgements upstream. */
export function linkTag(from: number, to: number, units: number, upstream: boolean): number {
  const tag = FIRST_LINK_TAG + 2 * (from * units + to) + (upstream ? 1 : 0);
  if (tag > MAX_PORTABLE_TAG) {
    throw new D4Error('D4_MPI_TOO_MANY_UNITS', `the mpi mapping numbers each link between PE instances with an MPI tag, and ${units} instances need tags beyond ${MAX_PORTABLE_TAG}, the most every MPI library accepts; use fewer processes (-n) or --partitioned`);
  }
  return tag;
}
