import { KeyedInbox, type FixedTransport, type Link, type LinkFrame, type WorkerMessage } from '@d4/runtime/worker';
import { linkFrameOf, linkKey, linkMessage, reportMessage, reportPayload, type PeerAddress } from './frames.js';
import { SendQueue } from './send-queue.js';
import { curveClient, reconnectFor, type CurveKeyPair } from './sockets.js';
import { zeromq } from './zeromq.js';

/**
 * The ZeroMQ transport of one worker process: a PUSH socket to each peer worker it shares a
 * link with, connected straight to the peer's PULL socket (never through the driver), and
 * this worker's own PULL socket, on which every peer's frames arrive. Frames of one link all
 * travel over one PUSH/PULL pair, so they arrive in the order they were sent.
 */
export class ZmqTransport implements FixedTransport {
  /** Frames by link; those that come before the runtime asks for their link (a peer started first) wait there. */
  private readonly inbox = new KeyedInbox<string, LinkFrame>();
  private readonly peers = new Map<number, SendQueue>();
  private readonly hosted: Set<number>;
  private readonly reports: Buffer[] = [];

  constructor(
    readonly index: number,
    units: readonly number[],
    private readonly workerOf: readonly number[],
    private readonly addresses: readonly PeerAddress[],
    private readonly toDriver: SendQueue,
    private readonly keys: CurveKeyPair | undefined,
    private readonly onError: (error: Error) => void,
  ) {
    this.hosted = new Set(units);
  }

  link(from: number, to: number): Link {
    const peer = this.peer(this.workerOf[this.hosted.has(from) ? to : from]);
    const key = `${from}>${to}`;
    return {
      send: (frame) => peer.push(linkMessage(from, to, frame)),
      onFrame: (listener) => this.inbox.on(key, listener),
    };
  }

  report(message: WorkerMessage): void {
    // Each send wakes ZeroMQ's I/O thread; a timer tick reports every unit's progress at
    // once: what is reported until this turn's microtasks run goes as one message, in order.
    // Encoded here, so that a report that cannot be encoded fails its caller, as before.
    if (this.reports.push(reportPayload(message)) === 1) queueMicrotask(() => this.sendReports());
  }

  private sendReports(): void {
    if (this.reports.length) this.toDriver.push(reportMessage(this.index, this.reports.splice(0)));
  }

  /** A link frame from this worker's PULL socket. */
  deliver(header: Buffer, payload: Buffer | undefined): void {
    this.inbox.deliver(linkKey(header), linkFrameOf(header, payload));
  }

  async flushed(): Promise<void> {
    this.sendReports();
    await Promise.all([...this.peers.values()].map((peer) => peer.flushed()));
  }

  close(): void {
    for (const peer of this.peers.values()) peer.close();
  }

  private peer(worker: number): SendQueue {
    let queue = this.peers.get(worker);
    if (!queue) {
      const address = this.addresses[worker];
      // The runtime's credits bound what waits on a link; ZeroMQ's own queue need not drop or block first.
      const socket = new (zeromq().Push)({ sendHighWaterMark: 0, linger: 2000, ...reconnectFor(address.endpoint), ...curveClient(this.keys, address.publicKey) });
      socket.connect(address.endpoint);
      this.peers.set(worker, (queue = new SendQueue(socket, this.onError)));
    }
    return queue;
  }
}
