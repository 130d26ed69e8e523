import type { LinkFrame, WorkerMessage } from './protocol.js';

/**
 * One end of a link between two units of a fixed plan, in another worker: frames arrive in
 * the order they were sent. The runtime sends at most `credit` batches before an
 * acknowledgement comes back, so a link never buffers without bound.
 *
 * `send` may be handed a view into a reused buffer only for the duration of the call: a
 * transport that keeps the bytes (queues them, sends later) copies them. The runtime gives
 * batches that are already copies (`ownBytes`), so most transports copy nothing.
 */
export interface Link {
  send(frame: LinkFrame): void;
  onFrame(listener: (frame: LinkFrame) => void): void;
}

/**
 * What a backend supplies to run a fixed plan: the links between its units across
 * workers, and a way to report to the driver. Units in the same worker are linked by the
 * runtime itself, in memory.
 */
export interface FixedTransport {
  /**
   * The link between unit `from` (upstream) and unit `to` (downstream), one of which this
   * worker hosts: called once per pair, before any frame flows.
   */
  link(from: number, to: number): Link;
  /** Sends a message to the driver. */
  report(message: WorkerMessage): void;
}

/**
 * Optional, for an at-least-once transport (Redis Streams): an input is acknowledged only
 * together with everything processing it wrote (outputs for the next PEs, results, logs,
 * reports), in one atomic step. A worker killed mid-batch then leaves its inputs pending for
 * another worker and nothing of its batch; a worker taken for dead while it was only frozen
 * is refused (fenced) instead of writing a second copy.
 *
 * `Ack` is the transport's own handle on what it delivered (stream entry ids, …).
 */
export interface CommitTransport<Ack> {
  /**
   * Writes what was buffered since the last commit and acknowledges `acks`, atomically.
   * `reports` go to the driver in the same step. Resolves to undefined when the job is over
   * (nothing was written); rejects when this worker was fenced.
   */
  commit(acks: readonly Ack[], reports?: readonly [string, string | Uint8Array][]): Promise<CommitOutcome | undefined>;
}

export interface CommitOutcome {
  /** 1-based positions, over every acknowledged input, of inputs someone else acknowledged first: what this commit wrote for them is a second copy. */
  duplicates: number[];
  /** Inputs in flight in the whole job after this commit (-1: nothing was sent). */
  inFlight: number;
}

/**
 * Optional, for a transport whose workers come and go while a run goes on (workers that
 * join from other hosts, die and are replaced): what it tells the driver, which keeps them
 * in a `Membership` so that no wave of answers waits for a dead worker.
 */
export type MemberEvent =
  /** A worker registered and takes part from now on. */
  | { type: 'joined'; member: string }
  /** A worker finished (sent its final report) and left. */
  | { type: 'left'; member: string }
  /** A worker stopped without leaving: its process exited, or its heartbeat expired. */
  | { type: 'died'; member: string };
