import { getHeapStatistics } from 'node:v8';
import { WorkerError, decode, encodeBatch, type ValueOrigin } from '@d4/core';

const MB = 1024 * 1024;
/**
 * Allocations below this need no check: at its limit, Node gives a worker 16 MB more so that
 * it ends with ERR_WORKER_OUT_OF_MEMORY, which the driver reports as D4_WORKER_OUT_OF_MEMORY.
 */
const NEGLIGIBLE = 4 * MB;
/** How deep the scan for long strings looks into a value. */
const SCAN_DEPTH = 16;

/**
 * The codec of a worker thread with a heap limit (--worker-memory). Node ends a worker that
 * reaches its limit gracefully, but only when the allocation at hand fits in 16 MB more: a
 * single larger one (a long string flattened to be encoded, a long string or array made
 * while decoding) is fatal for the whole process ("FATAL ERROR: CALL_AND_RETRY_LAST", exit
 * 134, nodejs/node#47224), and the driver could report nothing. So before such an
 * allocation the guard compares its size with the heap left and, when it cannot fit, fails
 * the run with D4_WORKER_OUT_OF_MEMORY itself. Without a limit it only encodes and decodes.
 */
export class HeapGuard {
  private readonly limitBytes: number;

  constructor(private readonly limitMb: number | undefined) {
    this.limitBytes = (limitMb ?? 0) * MB;
  }

  /**
   * encodeBatch, after checking that flattening the long strings of `values` fits in the heap
   * (each is copied into one piece as it is encoded, and the pieces stay while the batch does).
   */
  encodeBatch(values: readonly unknown[], originOf?: (index: number) => ValueOrigin | undefined): Buffer {
    if (this.limitMb !== undefined) {
      let needed = 0;
      let left = -1;
      for (let i = 0; i < values.length; i++) {
        const more = longStrings(values[i], 0);
        if (more === 0) continue;
        needed += more;
        if (needed < NEGLIGIBLE) continue;
        if (left < 0) left = this.left();
        if (needed <= left) continue;
        const origin = originOf?.(i);
        const who = origin ? `PE ${origin.peId} wrote to port '${origin.port}'` : 'a PE wrote';
        const what = more === needed ? `a string of ${mb(needed)} MB; to send it, this worker must copy it` : `strings of ${mb(needed)} MB in one batch; to send them, this worker must copy each`;
        throw this.error(`${who} ${what} into one piece, which needs more than the ${mb(left)} MB left of its heap`);
      }
    }
    return encodeBatch(values, originOf);
  }

  /** decode, after checking that a batch of this size can be decoded in the heap left. */
  decode<T>(bytes: Uint8Array, receiver: string): T {
    if (this.limitMb !== undefined && bytes.byteLength >= NEGLIGIBLE) {
      const left = this.left();
      // Decoded values take at least about their encoded size (a string one byte per character).
      if (bytes.byteLength > left) throw this.error(`a batch of ${mb(bytes.byteLength)} MB arrived for ${receiver}; decoding it needs more than the ${mb(left)} MB left of this worker's heap`);
    }
    return decode<T>(bytes);
  }

  private left(): number {
    return Math.max(0, this.limitBytes - getHeapStatistics().used_heap_size);
  }

  private error(what: string): WorkerError {
    return new WorkerError(
      `a worker thread ran out of memory: ${what} (--worker-memory ${this.limitMb}); raise --worker-memory, or write smaller items`,
      'D4_WORKER_OUT_OF_MEMORY',
    );
  }
}

function mb(bytes: number): string {
  return (bytes / MB).toFixed(bytes < 10 * MB ? 1 : 0);
}

/** Strings shorter than this are not counted: copying them is never a large allocation. */
const LONG_STRING = 64 * 1024;

/** The total length of the long strings in a value (plain objects, arrays, Map, Set). */
function longStrings(value: unknown, depth: number): number {
  if (typeof value === 'string') return value.length >= LONG_STRING ? value.length : 0;
  if (value === null || typeof value !== 'object' || depth === SCAN_DEPTH || ArrayBuffer.isView(value)) return 0;
  let total = 0;
  if (Array.isArray(value)) for (let i = 0; i < value.length; i++) total += longStrings(value[i], depth + 1);
  else if (value instanceof Map) for (const [k, v] of value) total += longStrings(k, depth + 1) + longStrings(v, depth + 1);
  else if (value instanceof Set) for (const v of value) total += longStrings(v, depth + 1);
  else for (const key in value as Record<string, unknown>) total += longStrings((value as Record<string, unknown>)[key], depth + 1);
  return total;
}
