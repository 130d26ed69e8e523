import type { FixedTransport, LinkFrame, WireError, WorkerMessage } from '@d4/runtime/worker';
import { linkTag } from './tags.js';
import type { World } from './world.js';

/** What a rank is sent by rank 0: its worker job, and which rank hosts every unit. */
export interface RankJob {
  job: import('@d4/runtime/worker').FixedWorkerJob;
  workerOf: number[];
}

/**
 * The MPI transport of a fixed plan on one rank: each link between units on different
 * ranks is its own pair of tags between the two ranks (batches and end of stream one way,
 * acknowledgements the other), received through the rank's mailbox in the order they were
 * sent; reports go to `report` (rank 0's driver, directly on rank 0, by MPI elsewhere).
 * A failed send (the peer is gone) goes to `broken`.
 */
export function rankTransport(world: World, workerOf: readonly number[], report: (message: WorkerMessage) => void, broken: (error: unknown) => void): FixedTransport {
  const units = workerOf.length;
  return {
    link(from, to) {
      const downstreamHere = workerOf[to] === world.rank;
      const peer = downstreamHere ? workerOf[from] : workerOf[to];
      // Downstream receives batches and sends acknowledgements; upstream the other way round.
      const incoming = linkTag(from, to, units, !downstreamHere);
      const outgoing = linkTag(from, to, units, downstreamHere);
      return {
        send: (frame: LinkFrame) => {
          world.comm.send(frame, peer, outgoing).catch(broken);
        },
        onFrame: (listener: (frame: LinkFrame) => void) => world.mailbox.on(peer, incoming, listener as (value: unknown) => void),
      };
    },
    report: (message) => report(message.type === 'error' ? { type: 'error', error: onRank(message.error, world) } : message),
  };
}

/** A worker's error says which rank and host it happened on: the driver may be elsewhere. */
export function onRank(error: WireError, world: Pick<World, 'rank' | 'host'>): WireError {
  if (error.fields.rank !== undefined) return error;
  return { ...error, message: `${error.message} (on rank ${world.rank}, host ${world.host})`, fields: { ...error.fields, rank: world.rank, host: world.host } };
}
