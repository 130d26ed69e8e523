/**
 * Messages over a byte stream (a TCP socket between the executor and a worker launched by
 * srun or mpiexec): each message is a 4-byte big-endian length and that many bytes.
 */

export function frame(bytes: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(4 + bytes.length);
  out.writeUInt32BE(bytes.length, 0);
  out.set(bytes, 4);
  return out;
}

/** Collects chunks as they arrive and hands out every complete message. */
export class FrameReader {
  #pending: Buffer = Buffer.alloc(0);
  readonly #onMessage: (bytes: Uint8Array) => void;

  constructor(onMessage: (bytes: Uint8Array) => void) {
    this.#onMessage = onMessage;
  }

  push(chunk: Buffer): void {
    let data = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    while (data.length >= 4) {
      const length = data.readUInt32BE(0);
      if (data.length < 4 + length) break;
      this.#onMessage(data.subarray(4, 4 + length));
      data = data.subarray(4 + length);
    }
    this.#pending = data;
  }
}
