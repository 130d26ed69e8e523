// What reduce() and allreduce() combine: numbers (as float64), bigints (as int64) and typed
// arrays elementwise in their own type. Datatype indices match native/collectives.cc.
import { describeType } from '@d4/core';
import { MpiError } from './errors.js';
import { OPS, type ReduceOp } from './native.js';

export type ReducibleArray = Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | BigInt64Array | BigUint64Array | Float32Array | Float64Array;
export type Reducible = number | bigint | ReducibleArray;

/** native/collectives.cc's index of MPI_DOUBLE. */
export const FLOAT64 = 9;

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

const TYPE_NAMES = ['Int8Array', 'Uint8Array', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array', 'BigInt64Array (or a bigint)', 'BigUint64Array', 'Float32Array', 'Float64Array (or a number)'];

/**
 * What every rank must agree on before reducing (MPI does not check: unequal lengths or
 * types corrupt memory or hang): [length, -length, datatype, -datatype], to be combined
 * with max, so that max and -min of each come out.
 */
export function agreement<T>(r: Reduction<T>): Float64Array {
  return Float64Array.of(r.send.length, -r.send.length, r.datatype, -r.datatype);
}

/** Throws, on every rank alike, when the combined agreement shows ranks that differ. */
export function checkAgreement<T>(call: string, r: Reduction<T>, combined: Float64Array): void {
  const [maxLength, minLength, maxType, minType] = [combined[0], -combined[1], combined[2], -combined[3]];
  if (maxLength === minLength && maxType === minType) return;
  const what = maxType === minType ? `${TYPE_NAMES[maxType]}s of lengths ${minLength} to ${maxLength}` : `values of different types (${TYPE_NAMES[minType]} to ${TYPE_NAMES[maxType]})`;
  throw new MpiError('D4_MPI_ARGUMENT', `${call}: the ranks gave ${what}; every rank must give the same type, of the same length (this rank gave: ${TYPE_NAMES[r.datatype]}, length ${r.send.length})`);
}

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
    return { send: Float64Array.of(value), result: () => new Float64Array(1), datatype: FLOAT64, op: opIndex, read: (r) => r[0] as T };
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
