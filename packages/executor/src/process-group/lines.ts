import { StringDecoder } from 'node:string_decoder';
import type { Readable } from 'node:stream';

// CSI sequences (colours, cursor moves) and OSC sequences (window titles), as terminals emit them.
const ESCAPES = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)/g;

/** Lines queued before the sources are paused, so output nobody reads does not fill memory. */
const HIGH_WATER = 1024;

/**
 * The lines of one process's stdout or stderr as an async iterable, fed by one source after
 * another (a restarted process appends to the same lines). Whole lines only: a chunk that
 * ends mid-line waits for the rest. It ends once `close()` was called and every attached
 * source has ended; a last line without a newline is delivered then.
 */
export class LineStream implements AsyncIterable<string> {
  readonly #raw: boolean;
  readonly #queue: string[] = [];
  readonly #sources = new Set<Readable>();
  #waiting: ((result: IteratorResult<string>) => void) | undefined;
  #closed = false;
  #iterated = false;
  #paused = false;
  #discard = false;

  constructor(raw = false) {
    this.#raw = raw;
  }

  /** Feeds the stream from `source`, after `head` (bytes already read from it). */
  attach(source: Readable, head?: Buffer): void {
    const decoder = new StringDecoder('utf8');
    let partial = '';
    const take = (text: string) => {
      const pieces = (partial + text).split('\n');
      partial = pieces.pop() ?? '';
      for (const line of pieces) this.#push(line);
    };
    this.#sources.add(source);
    if (head && head.length > 0) take(decoder.write(head));
    source.on('data', (chunk: Buffer) => take(decoder.write(chunk)));
    const done = () => {
      if (!this.#sources.delete(source)) return;
      const rest = partial + decoder.end();
      partial = '';
      if (rest !== '') this.#push(rest);
      this.#settle();
    };
    source.once('end', done);
    source.once('close', done);
    source.once('error', done);
    if (this.#paused) source.pause();
  }

  /** No source will be attached any more. */
  close(): void {
    this.#closed = true;
    this.#settle();
  }

  [Symbol.asyncIterator](): AsyncIterator<string> {
    if (this.#iterated) throw new Error('the lines of a process can be iterated once; keep the lines you need as they come');
    this.#iterated = true;
    return {
      next: () => {
        const line = this.#queue.shift();
        if (line !== undefined) {
          if (this.#paused && this.#queue.length < HIGH_WATER / 2) this.#resume();
          return Promise.resolve({ value: line, done: false });
        }
        if (this.#ended()) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => (this.#waiting = resolve));
      },
      return: () => {
        // The reader stopped: drop what comes, and never hold the process back.
        this.#queue.length = 0;
        this.#resume();
        this.#iterated = true;
        this.#discard = true;
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }

  #push(line: string): void {
    if (this.#discard) return;
    const text = this.#raw ? line : line.replace(/\r$/, '').replace(ESCAPES, '');
    const waiting = this.#waiting;
    if (waiting) {
      this.#waiting = undefined;
      waiting({ value: text, done: false });
      return;
    }
    this.#queue.push(text);
    // Paused only for a reader that lags: lines nobody has started to read yet are kept, so a
    // program whose output is read after join() does not block on a full pipe for ever.
    if (this.#iterated && !this.#paused && this.#queue.length >= HIGH_WATER) {
      this.#paused = true;
      for (const source of this.#sources) source.pause();
    }
  }

  #resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    for (const source of this.#sources) source.resume();
  }

  #ended(): boolean {
    return this.#closed && this.#sources.size === 0 && this.#queue.length === 0;
  }

  #settle(): void {
    if (this.#waiting && this.#ended()) {
      const waiting = this.#waiting;
      this.#waiting = undefined;
      waiting({ value: undefined, done: true });
    }
  }
}
