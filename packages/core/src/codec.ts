// msgpackr's 'pack' entry is the codec alone: the main entry also loads its streams, the
// struct encoder and the optional native string extractor, ~10 ms more per worker thread
// start (about a sixth of a worker's start), for nothing d4 uses.
import { Packr } from 'msgpackr/pack';
import { CodecError, describeType } from './errors.js';

/**
 * The one codec for data that crosses a process or host boundary (msgpack via msgpackr).
 * It carries JSON-like values plus undefined, bigint, Date, Map, Set, typed arrays and
 * Buffers. Class instances arrive as plain objects. Functions and symbols are refused:
 * msgpackr would silently turn a function into undefined, which is data loss.
 */
class UncarriableValue extends Error {
  constructor(readonly value: unknown) {
    super('uncarriable');
  }
}

// Records (msgpackr's default) keep plain objects and Maps apart; no structures are
// shared between packers, so each message carries its record definitions and any decoder,
// in any process, reads it. structuredClone adds cycles, Error and RegExp.
const packr = new Packr({
  structuredClone: true,
  moreTypes: true,
  writeFunction: (fn: unknown) => {
    throw new UncarriableValue(fn);
  },
} as unknown as ConstructorParameters<typeof Packr>[0]);

/** Where a value was written, so a codec error can say which PE and port made it. */
export interface ValueOrigin {
  peId: string;
  port: string;
}

export function encode(value: unknown, origin?: ValueOrigin): Buffer {
  try {
    return packr.pack(value);
  } catch (error) {
    throw codecError(value, error, origin);
  }
}

export function decode<T = unknown>(bytes: Uint8Array): T {
  try {
    return packr.unpack(bytes) as T;
  } catch (error) {
    throw new CodecError(`cannot decode a message of ${bytes.byteLength} bytes: ${(error as Error).message}; a worker of another d4 version may be sending data`, { cause: error });
  }
}

/**
 * Encodes a batch of values in one message. When a value cannot be carried, the error
 * names the origin of that value (`originOf(index)`).
 */
export function encodeBatch(values: readonly unknown[], originOf?: (index: number) => ValueOrigin | undefined): Buffer {
  try {
    return packr.pack(values);
  } catch (error) {
    for (let i = 0; i < values.length; i++) {
      try {
        packr.pack(values[i]);
      } catch (inner) {
        throw codecError(values[i], inner, originOf?.(i));
      }
    }
    throw codecError(values, error, undefined);
  }
}

function codecError(value: unknown, error: unknown, origin: ValueOrigin | undefined): CodecError {
  const culprit = error instanceof UncarriableValue ? error.value : findUncarriable(value) ?? value;
  const where = origin ? `PE ${origin.peId} wrote to port '${origin.port}' a value` : 'a value';
  return new CodecError(
    `${where} that cannot cross a process boundary: it holds a ${describeType(culprit)}; send plain data (numbers, strings, arrays, objects, Map, Set, Date, typed arrays) instead`,
    { cause: error },
  );
}

function findUncarriable(value: unknown, depth = 0): unknown {
  if (typeof value === 'function' || typeof value === 'symbol') return value;
  if (depth > 32 || value === null || typeof value !== 'object') return undefined;
  const children = value instanceof Map ? [...value.keys(), ...value.values()] : value instanceof Set ? [...value] : Object.values(value);
  for (const child of children) {
    const found = findUncarriable(child, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * A value as a PE on the far side of a boundary would get it: the value itself when the
 * codec keeps it as it is (primitives, plain objects and arrays, Map, Set, Date, typed
 * arrays, all of such values), else its round trip through the codec, so class instances
 * arrive as plain objects and a function fails with the codec's own error, naming `peId`
 * and `port`. The scan costs a typeof for a primitive; only the rare values it cannot
 * vouch for pay for encoding. `simple` calls it on every write, so that a graph behaves
 * there as on the mappings where writes cross threads, processes or hosts.
 */
export function asCarried(value: unknown, peId: string, port: string): unknown {
  if (keptAsIs(value, 0)) return value;
  return decode(encode(value, { peId, port }));
}

/** Depth past which the scan gives up and lets the codec decide (deep or cyclic values). */
const SCAN_DEPTH = 32;

function keptAsIs(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'number':
    case 'string':
    case 'boolean':
    case 'undefined':
    case 'bigint':
      return true;
    case 'object':
      break;
    default:
      return false; // function, symbol
  }
  if (value === null) return true;
  if (depth === SCAN_DEPTH) return false;
  const proto = Object.getPrototypeOf(value);
  if (proto === Array.prototype) {
    const array = value as unknown[];
    for (let i = 0; i < array.length; i++) if (!keptAsIs(array[i], depth + 1)) return false;
    return true;
  }
  if (proto === Object.prototype) {
    const record = value as Record<string, unknown>;
    for (const key in record) if (!keptAsIs(record[key], depth + 1)) return false;
    return true;
  }
  if (ArrayBuffer.isView(value) || value instanceof Date) return isBuiltin(value);
  if (value instanceof Map) {
    if (proto !== Map.prototype) return false;
    for (const [k, v] of value) if (!keptAsIs(k, depth + 1) || !keptAsIs(v, depth + 1)) return false;
    return true;
  }
  if (value instanceof Set) {
    if (proto !== Set.prototype) return false;
    for (const v of value) if (!keptAsIs(v, depth + 1)) return false;
    return true;
  }
  return false;
}

/** Typed arrays, Buffers, DataViews and Dates whose class is the built-in one (not a subclass). */
function isBuiltin(value: object): boolean {
  const ctor = (value as { constructor?: unknown }).constructor;
  return ctor === Date || ctor === Buffer || ctor === DataView || BUILTIN_VIEWS.has(ctor);
}

const BUILTIN_VIEWS = new Set<unknown>([Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array, Float64Array, BigInt64Array, BigUint64Array]);
