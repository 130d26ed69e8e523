import { isFuture, type Future } from './future.js';

/**
 * Futures given as arguments, also inside arrays, plain objects, Maps and Sets. Class
 * instances are not searched: they cross to the worker as data.
 */
export function collectFutures(args: readonly unknown[]): readonly Future<unknown>[] {
  // Most calls have only plain values: answer those without allocating.
  let i = 0;
  while (i < args.length && (typeof args[i] !== 'object' || args[i] === null)) i++;
  if (i === args.length) return NONE;
  const found = new Set<Future<unknown>>();
  for (; i < args.length; i++) visit(args[i], found, 0);
  return found.size === 0 ? NONE : [...found];
}

const NONE: readonly Future<unknown>[] = Object.freeze([]);

function visit(value: unknown, found: Set<Future<unknown>>, depth: number): void {
  if (value === null || typeof value !== 'object' || depth > 64) return;
  if (isFuture(value)) {
    found.add(value);
    return;
  }
  if (Array.isArray(value)) {
    for (const item of value) visit(item, found, depth + 1);
  } else if (value instanceof Map) {
    for (const [k, v] of value) {
      visit(k, found, depth + 1);
      visit(v, found, depth + 1);
    }
  } else if (value instanceof Set) {
    for (const item of value) visit(item, found, depth + 1);
  } else if (isPlainObject(value)) {
    for (const key in value) visit(value[key], found, depth + 1);
  }
}

/** A copy of `args` with every future replaced by its value (all of them are finished). */
export function replaceFutures(args: readonly unknown[]): unknown[] {
  return args.map((arg) => replace(arg, 0));
}

function replace(value: unknown, depth: number): unknown {
  if (value === null || typeof value !== 'object' || depth > 64) return value;
  if (isFuture(value)) {
    const outcome = value._valueIfDone();
    return outcome && outcome.ok ? outcome.value : undefined;
  }
  if (Array.isArray(value)) return value.map((item) => replace(item, depth + 1));
  if (value instanceof Map) return new Map([...value].map(([k, v]) => [replace(k, depth + 1), replace(v, depth + 1)]));
  if (value instanceof Set) return new Set([...value].map((item) => replace(item, depth + 1)));
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const key in value) out[key] = replace(value[key], depth + 1);
    return out;
  }
  return value;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
