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
