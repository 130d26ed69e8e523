import { ACK, END_OF_STREAM, type FixedTransport, type FixedWorkerJob, type LinkFrame, type WireError, type WorkerMessage } from '@d4/runtime/worker';
import { linkTag } from './tags.js';
import type { World } from './world.js';

/** What a rank is sent by rank 0: its worker job, and which rank hosts every unit. */
export interface RankJob {
  job: FixedWorkerJob;
  workerOf: number[];
}

/** End of stream downstream and an acknowledgement upstream: each direction has a tag of its own, so an empty message says it. */
const EMPTY = new Uint8Array(0);

/**
 * The MPI transport of a fixed plan on one rank: each link between units on different
 * ranks is its own pair of tags between the two ranks, batches and end of stream one way,
 * acknowledgements the other, received through the rank's mailbox in the order they were
 * sent. Batches go as the bytes the runtime encoded (the addon's bytes path: no codec, no
 * copy); end of stream and acknowledgements are empty messages. Reports go to `report`
 * (rank 0's driver: directly on rank 0, by MPI elsewhere). A failed send goes to `broken`.
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
          const bytes = frame instanceof Uint8Array ? frame : EMPTY;
          world.comm.sendBytes(bytes, peer, outgoing).catch(broken);
        },
        onFrame: (listener: (frame: LinkFrame) => void) =>
          world.mailbox.on(peer, incoming, downstreamHere ? (bytes) => listener(bytes.length === 0 ? END_OF_STREAM : bytes) : () => listener(ACK)),
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
