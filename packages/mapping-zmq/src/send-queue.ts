import type { Push } from 'zeromq';
import type { Message } from './frames.js';

/**
 * The messages waiting to go out on one socket, sent in order. zeromq.js allows one pending
 * send per socket (a second one while the first waits is refused with EBUSY), while the
 * runtime's `Link.send` is synchronous: the queue bridges the two. It stays short: the
 * runtime never has more than `credit` batches unacknowledged on a link, so a queue holds at
 * most that many batches per link plus acknowledgements and end-of-stream marks.
 */
export class SendQueue {
  private readonly queue: Message[] = [];
  private sending = false;
  private closed = false;

  constructor(
    readonly socket: Push,
    private readonly onError: (error: Error) => void,
  ) {}

  push(message: Message): void {
    if (this.closed) return;
    this.queue.push(message);
    if (!this.sending) void this.drain();
  }

  /** Resolves once everything queued so far is handed to ZeroMQ (or the socket closed). */
  async flushed(): Promise<void> {
    while ((this.sending || this.queue.length) && !this.closed) await new Promise((resolve) => setImmediate(resolve));
  }

  close(): void {
    this.closed = true;
    this.queue.length = 0;
    this.socket.close();
  }

  private async drain(): Promise<void> {
    this.sending = true;
    try {
      while (this.queue.length && !this.closed) {
        // A send that can queue at once resolves at once; one that waits (no peer connected
        // yet, or the high-water mark reached) holds the rest back, in order.
        await this.socket.send(this.queue.shift()!);
      }
    } catch (error) {
      if (!this.closed) this.onError(error as Error);
    } finally {
      this.sending = false;
    }
  }
}
