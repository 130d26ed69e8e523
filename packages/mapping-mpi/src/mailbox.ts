import type { MpiComm } from './mpi-api.js';
import { TAG } from './tags.js';

type Listener = (value: unknown) => void;

/**
 * A rank's one receive loop: a single pending receive from any source with any tag (the
 * addon waits on a thread of its own, so nothing blocks the event loop), each message
 * handed to whoever listens on its (source, tag). A message that arrives before anyone
 * listens (a peer's first batch while this rank still loads the workflow) is kept until
 * a listener comes. The loop ends when a `stop` message arrives.
 */
export class Mailbox {
  private readonly listeners = new Map<number, Listener>();
  private readonly early = new Map<number, unknown[]>();
  private readonly size: number;
  private ended!: () => void;
  /** Resolves when `stop` arrived; rejects when a receive failed. */
  readonly done: Promise<void>;

  constructor(private readonly comm: MpiComm) {
    this.size = comm.size;
    this.done = new Promise<void>((resolve, reject) => {
      this.ended = resolve;
      this.loop().catch(reject);
    });
  }

  /** Listens to the messages of one source and tag, first to any that came early. */
  on(source: number, tag: number, listener: Listener): void {
    const key = tag * this.size + source;
    this.listeners.set(key, listener);
    const queued = this.early.get(key);
    if (queued) {
      this.early.delete(key);
      for (const value of queued) listener(value);
    }
  }

  private async loop(): Promise<void> {
    for (;;) {
      const { value, source, tag } = await this.comm.recv();
      if (tag === TAG.stop) {
        this.ended();
        return;
      }
      const key = tag * this.size + source;
      const listener = this.listeners.get(key);
      if (listener) listener(value);
      else {
        let queued = this.early.get(key);
        if (!queued) this.early.set(key, (queued = []));
        queued.push(value);
      }
    }
  }
}
