import { KeyedInbox } from '@d4/runtime/worker';
import type { Communicator } from './mpi-api.js';
import { TAG } from './tags.js';

type Listener = (bytes: Buffer) => void;

/**
 * A rank's one receive loop: a single pending receive of bytes from any source with any tag
 * (the addon waits on a thread of its own, so nothing blocks the event loop), each message
 * handed to whoever listens on its (source, tag). A message that arrives before anyone
 * listens (a peer's first batch while this rank still loads the workflow) is kept until a
 * listener comes. The loop ends when a `stop` message arrives, so that no receive is left
 * waiting when MPI is finalized.
 */
export class Mailbox {
  private readonly inbox = new KeyedInbox<number, Buffer>();
  private readonly size: number;
  private ended!: () => void;
  /** Resolves when `stop` arrived; rejects when a receive failed. */
  readonly done: Promise<void>;

  constructor(private readonly comm: Communicator) {
    this.size = comm.size;
    this.done = new Promise<void>((resolve, reject) => {
      this.ended = resolve;
      this.loop().catch(reject);
    });
  }

  /** Listens to the messages of one source and tag, first to any that came early. */
  on(source: number, tag: number, listener: Listener): void {
    this.inbox.on(tag * this.size + source, listener);
  }

  private async loop(): Promise<void> {
    for (;;) {
      const { data, source, tag } = await this.comm.recvBytes();
      if (tag === TAG.stop) {
        this.ended();
        return;
      }
      this.inbox.deliver(tag * this.size + source, data);
    }
  }
}
