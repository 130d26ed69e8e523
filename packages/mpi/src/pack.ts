// How a value becomes an MPI message and back. The first byte says what follows:
// 0 = the codec's bytes (@d4/core encode/decode), from byte 1; 1..12 = a Buffer or a typed
// array's raw bytes, from byte 8, so that the receiver's view of them is aligned for any
// element type and needs no copy (the addon's receive buffers are malloc'd, 16-aligned);
// 13 = the codec's bytes from byte 8. A payload over COPY_LIMIT is not copied behind its
// header: the 8-byte header goes first, with 1 in its second byte, and the payload follows
// as its own message (same destination and tag, so MPI keeps them in order), which the
// addon receives behind the header (native/engine.h). A contiguous payload goes
// single-copy in shared memory, where a datatype joining the two would not.
import { decode, encode } from '@d4/core';

/** A typed array class: a view over (buffer, byteOffset, length) with a fixed element size. */
interface ViewConstructor {
  new (buffer: ArrayBuffer, byteOffset: number, length: number): ArrayBufferView;
  readonly BYTES_PER_ELEMENT: number;
}

const KINDS: readonly (ViewConstructor | BufferConstructor)[] = [Buffer /* 0: codec */, Buffer, Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array, Float64Array, BigInt64Array, BigUint64Array];
const KIND_OF = new Map<unknown, number>(KINDS.map((ctor, kind) => [ctor, kind] as const).filter(([, kind]) => kind > 0));

const CODEC = 0;
const CODEC_AT_8 = 13;
/** Where a raw payload starts: 8 keeps every element type aligned. */
const RAW_OFFSET = 8;
const header = (kind: number, follows: boolean) => Uint8Array.of(kind, follows ? 1 : 0, 0, 0, 0, 0, 0, 0);
const HEADERS = KINDS.map((_, kind) => header(kind, false));
/** Headers that announce a payload in the next message (read by the addon). */
const FOLLOWS = [...KINDS.map((_, kind) => header(kind, true)), header(CODEC_AT_8, true)];
const CODEC_HEADER = Uint8Array.of(CODEC);
/** Payloads up to this size are copied behind their header; larger follow it. */
const COPY_LIMIT = 4096;

/** The kind of a Buffer or built-in typed array (not a subclass), else undefined. */
function rawKind(value: unknown): number | undefined {
  if (!ArrayBuffer.isView(value)) return undefined;
  return KIND_OF.get((value as { constructor?: unknown }).constructor);
}

function bytesOf(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

/**
 * A value as the messages to send: one, or a header and its payload (then the payload is
 * the caller's own memory or the codec's output, never copied).
 */
export function packMessages(value: unknown): Uint8Array[] {
  const kind = rawKind(value);
  if (kind !== undefined) {
    const payload = bytesOf(value as ArrayBufferView);
    return payload.byteLength > COPY_LIMIT ? [FOLLOWS[kind], payload] : [joined(HEADERS[kind], payload)];
  }
  const encoded = encode(value);
  return encoded.byteLength > COPY_LIMIT ? [FOLLOWS[CODEC_AT_8], encoded] : [joined(CODEC_HEADER, encoded)];
}

/** Small messages are one buffer, the payload copied behind its header. */
function joined(head: Uint8Array, payload: Uint8Array): Uint8Array {
  const message = Buffer.allocUnsafe(head.byteLength + payload.byteLength);
  message.set(head, 0);
  message.set(payload, head.byteLength);
  return message;
}

/** A value as one contiguous message, for collectives (which take one buffer). */
export function packContiguous(value: unknown): Uint8Array {
  const messages = packMessages(value);
  return messages.length === 1 ? messages[0] : joined(messages[0], messages[1]);
}

/** The value a message carries. Raw payloads become views of `message`'s memory. */
export function unpack(message: Uint8Array): unknown {
  const kind = message[0];
  if (kind === CODEC) return decode(message.subarray(1));
  if (kind === CODEC_AT_8) return decode(message.subarray(RAW_OFFSET));
  const ctor = KINDS[kind];
  if (!ctor || message.byteLength < RAW_OFFSET) return decode(message); // the codec explains what is wrong
  const offset = message.byteOffset + RAW_OFFSET;
  const byteLength = message.byteLength - RAW_OFFSET;
  if (ctor === Buffer) return Buffer.from(message.buffer, offset, byteLength);
  const view = ctor as ViewConstructor;
  const element = view.BYTES_PER_ELEMENT;
  if (offset % element === 0) return new view(message.buffer as ArrayBuffer, offset, byteLength / element);
  // Only a message inside a buffer we did not allocate can be misaligned: copy it.
  return new view(message.slice(RAW_OFFSET).buffer as ArrayBuffer, 0, byteLength / element);
}
