// How a value becomes one MPI message and back. The first byte says what follows:
// 0 = the codec's bytes (@d4/core encode/decode), from byte 1; 1..12 = a Buffer or a typed
// array's raw bytes, from byte 8, so that the receiver's view of them is aligned for any
// element type and needs no copy (the addon's receive buffers are malloc'd, 16-aligned).
import { decode, encode } from '@d4/core';

/** A typed array class: a view over (buffer, byteOffset, length) with a fixed element size. */
interface ViewConstructor {
  new (buffer: ArrayBuffer, byteOffset: number, length: number): ArrayBufferView;
  readonly BYTES_PER_ELEMENT: number;
}

const KINDS: readonly (ViewConstructor | BufferConstructor)[] = [Buffer, Buffer, Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array, Float64Array, BigInt64Array, BigUint64Array];
const KIND_OF = new Map<unknown, number>(KINDS.map((ctor, kind) => [ctor, kind] as const).filter(([, kind]) => kind > 0));

const CODEC = 0;
/** Where a raw payload starts: 8 keeps every element type aligned. */
const RAW_OFFSET = 8;
const HEADERS = KINDS.map((_, kind) => Uint8Array.of(kind, 0, 0, 0, 0, 0, 0, 0));
const CODEC_HEADER = Uint8Array.of(CODEC);
/** Codec messages up to this size are copied behind their header; larger go as two parts. */
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
 * A value as the parts of one message (the addon sends several parts as one message with
 * an MPI datatype, so a large payload is never copied behind its header).
 */
export function packParts(value: unknown): Uint8Array[] {
  const kind = rawKind(value);
  if (kind !== undefined) return [HEADERS[kind], bytesOf(value as ArrayBufferView)];
  const encoded = encode(value);
  if (encoded.byteLength > COPY_LIMIT) return [CODEC_HEADER, encoded];
  const message = Buffer.allocUnsafe(encoded.byteLength + 1);
  message[0] = CODEC;
  message.set(encoded, 1);
  return [message];
}

/** A value as one contiguous message, for collectives (which take one buffer). */
export function packContiguous(value: unknown): Uint8Array {
  const parts = packParts(value);
  if (parts.length === 1) return parts[0];
  const message = Buffer.allocUnsafeSlow(parts[0].byteLength + parts[1].byteLength);
  message.set(parts[0], 0);
  message.set(parts[1], parts[0].byteLength);
  return message;
}

/** The value a message carries. Raw payloads become views of `message`'s memory. */
export function unpack(message: Uint8Array): unknown {
  const kind = message[0];
  if (kind === CODEC) return decode(message.subarray(1));
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
