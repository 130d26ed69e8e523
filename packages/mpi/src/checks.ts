// Argument checks that turn a wrong rank, tag or root into a D4Error naming the call and
// the valid range, before MPI sees it (MPI's own message would be "invalid rank").
import { describeType } from '@d4/core';
import { MpiError } from './errors.js';

export interface Bounds {
  size: number;
  tagUpperBound: number;
}

function isWhole(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value);
}

export function checkRank(call: string, name: string, value: unknown, bounds: Bounds): number {
  if (isWhole(value) && value >= 0 && value < bounds.size) return value;
  throw new MpiError('D4_MPI_ARGUMENT', `${call}: ${name} ${String(value)} is not a rank of COMM_WORLD; give a whole number from 0 to ${bounds.size - 1} (the world has ${bounds.size} rank${bounds.size === 1 ? '' : 's'})`);
}

export function checkTag(call: string, value: unknown, bounds: Bounds): number {
  if (isWhole(value) && value >= 0 && value <= bounds.tagUpperBound) return value;
  throw new MpiError('D4_MPI_ARGUMENT', `${call}: tag ${String(value)} is not a valid MPI tag; give a whole number from 0 to ${bounds.tagUpperBound}`);
}

export function checkBytes(call: string, value: unknown): ArrayBufferView {
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return value;
  throw new MpiError('D4_MPI_ARGUMENT', `${call}: expected a Uint8Array (or a Buffer or another typed array), got ${describeType(value)}; use send() for other values`);
}

/** MPI counts are C ints: one message carries at most 2 GiB - 1 bytes. */
export function checkLength(call: string, byteLength: number): void {
  if (byteLength > 0x7fffffff) throw new MpiError('D4_MPI_ARGUMENT', `${call}: a message of ${byteLength} bytes is larger than MPI's limit of 2147483647 bytes; split it`);
}
