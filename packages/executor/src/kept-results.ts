/**
 * The worker's side of forwarding (scheduling/forwarding.ts): results kept for the forwarded
 * tasks queued behind their upstream in this worker, and put into those tasks' arguments.
 *
 * A dependent must get what it would have got through the executor: the upstream's value
 * after one trip through the codec (class instances as plain objects, -0 as 0, a fresh copy it
 * may change at will). So a kept value is encoded once when its task ends (a snapshot: later
 * changes to the returned object are not seen) and each use decodes its own copy. Strings,
 * booleans, null, undefined and numbers other than -0 cross the codec unchanged and are kept as
 * they are. A value the codec refuses is not kept: its task fails with D4_CODEC when the result
 * batch is encoded, and its dependents are skipped, so the executor fails them as it does today.
 */
import { encode, decode } from '@d4/core';

interface Kept {
  /** The value itself when it crosses the codec unchanged, else undefined and `bytes`. */
  value: unknown;
  bytes: Uint8Array | undefined;
  /** Refs still to read it. */
  uses: number;
}

export class KeptResults {
  readonly #kept = new Map<number, Kept>();

  get size(): number {
    return this.#kept.size;
  }

  /** Keeps the result of task `id` for `uses` later reads. */
  keep(id: number, value: unknown, uses: number): void {
    if (unchangedByCodec(value)) {
      this.#kept.set(id, { value, bytes: undefined, uses });
      return;
    }
    try {
      // Its own copy: the codec's buffer is reused by the next encode.
      this.#kept.set(id, { value: undefined, bytes: new Uint8Array(encode(value)), uses });
    } catch {
      // Not kept: the dependents are skipped, and the task itself fails with D4_CODEC (worker.ts flush).
    }
  }

  /**
   * A forwarded task's args field, `[template, ...refs]` (upstreamId, path pairs): puts the
   * kept results the refs name into the template. Every ref is released, used or not. False
   * when one of them is missing: the task must not run.
   */
  fill(forwarded: unknown[]): boolean {
    const template = forwarded[0] as unknown[];
    let complete = true;
    for (let i = 1; i < forwarded.length; i += 2) {
      const kept = this.#take(forwarded[i] as number);
      if (!kept) {
        complete = false;
        continue;
      }
      if (complete) place(template, forwarded[i + 1] as number | (string | number)[], kept.bytes ? decode(kept.bytes) : kept.value);
    }
    return complete;
  }

  /** A forwarded task that will not run gives up its reads. */
  release(forwarded: readonly unknown[]): void {
    for (let i = 1; i < forwarded.length; i += 2) this.#take(forwarded[i] as number);
  }

  #take(id: number): Kept | undefined {
    const kept = this.#kept.get(id);
    if (kept && --kept.uses <= 0) this.#kept.delete(id);
    return kept;
  }
}

function unchangedByCodec(value: unknown): boolean {
  const type = typeof value;
  return value === null || type === 'string' || type === 'boolean' || type === 'undefined' || (type === 'number' && !Object.is(value, -0));
}

/** Sets `root[path]`, or `root[path[0]][path[1]]…` (arrays and plain objects, as the executor built the template). */
function place(root: unknown[], path: number | readonly (string | number)[], value: unknown): void {
  if (typeof path === 'number') {
    root[path] = value;
    return;
  }
  let container = root as unknown as Record<string | number, unknown>;
  for (let i = 0; i < path.length - 1; i++) container = container[path[i]] as Record<string | number, unknown>;
  container[path[path.length - 1]] = value;
}
