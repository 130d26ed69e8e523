// What reduce() and allreduce() combine: numbers (as float64), bigints (as int64) and typed
// arrays elementwise in their own type. Datatype indices match native/collectives.cc.
import { describeType } from '@d4/core';
import { MpiError } from './errors.js';
import { OPS, type ReduceOp } from './native.js';

export type ReducibleArray = Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | BigInt64Array | BigUint64Array | Float32Array | Float64Array;
export type Reducible = number | bigint | ReducibleArray;

const DATATYPES = new Map<unknown, number>([
  [Int8Array, 0],
  [Uint8Array, 1],
  [Buffer, 1],
  [Int16Array, 2],
  [Uint16Array, 3],
  [Int32Array, 4],
  [Uint32Array, 5],
  [BigInt64Array, 6],
  [BigUint64Array, 7],
  [Float32Array, 8],
  [Float64Array, 9],
]);

/** The send buffer, a fresh result buffer of the same type, and how to read the result. */
export interface Reduction<T> {
  send: ReducibleArray;
  result: () => ReducibleArray;
  datatype: number;
  op: number;
  read: (result: ReducibleArray) => T;
}

export function reduction<T extends Reducible>(call: string, value: T, op: ReduceOp): Reduction<T> {
  if (!Object.hasOwn(OPS, op)) throw new MpiError('D4_MPI_ARGUMENT', `${call}: op '${String(op)}' is not one of ${Object.keys(OPS).map((o) => `'${o}'`).join(', ')}`);
  const opIndex = OPS[op];
  if (typeof value === 'number') {
    return { send: Float64Array.of(value), result: () => new Float64Array(1), datatype: 9, op: opIndex, read: (r) => r[0] as T };
  }
  if (typeof value === 'bigint') {
    return { send: BigInt64Array.of(value), result: () => new BigInt64Array(1), datatype: 6, op: opIndex, read: (r) => r[0] as T };
  }
  const ctor = ArrayBuffer.isView(value) ? (value as { constructor?: unknown }).constructor : undefined;
  const datatype = DATATYPES.get(ctor);
  if (datatype === undefined) {
    const clamped = value instanceof Uint8ClampedArray ? ' (a Uint8ClampedArray would wrap, not clamp: use a Uint8Array or a wider type)' : '';
    throw new MpiError('D4_MPI_ARGUMENT', `${call}: cannot reduce a ${describeType(value)}${clamped}; give a number, a bigint or a typed array (Int8..Float64, BigInt64, BigUint64), the same length on every rank`);
  }
  const array = value as ReducibleArray;
  const make = ctor as new (length: number) => ReducibleArray;
  return { send: array, result: () => new make(array.length), datatype, op: opIndex, read: (r) => r as T };
}
