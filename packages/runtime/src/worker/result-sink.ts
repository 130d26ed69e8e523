import { getHeapStatistics } from 'node:v8';
import type { LogFn, RunOutputCounts } from '@d4/core';
import { OutputCollector } from '@d4/core/internal';
import type { WorkerMessage } from '../protocol.js';
import type { HeapGuard } from './heap-guard.js';

/** Where a worker's messages to the driver go (the transport's `report`). */
export type Report = (message: WorkerMessage) => void;

/** PEs' log() in a worker: sent to the driver, which calls the run's `log` option (or stderr). */
export function reportingLog(report: Report): LogFn {
  return (peId, instance, message) => report({ type: 'log', peId, instance, message });
}

/**
 * Bytes of exactly their own size, owned by the caller (the codec returns a view into its
 * reused buffer, which the next encode overwrites, and a posted view would carry the whole
 * buffer).
 *
 * Across worker threads bodies are copied, never transferred: transferring detaches an
 * ArrayBuffer, and the first detach in a thread switches off a V8 fast path for good, so
 * that every typed-array access in optimized code checks for detachment from then on. PEs
 * that compute on typed arrays (FFTs, images) then run ~20% slower in that thread
 * (fft_peaks: 54 -> 65 µs per item). Copying a batch costs a memcpy.
 */
export function ownBytes(buffer: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(buffer.byteLength);
  bytes.set(buffer);
  return bytes;
}

/**
 * Values written to unconnected outputs in a worker. 'stream' sends them to the driver in
 * batches (the driver keeps them or calls onOutput); 'count' keeps only counts here, for
 * runs with collect: 'count' and no onOutput, so long runs send nothing per item.
 */
export class ResultSink extends OutputCollector {
  private buffer: unknown[] = [];
  /** When the oldest value still buffered was written (0: none), for the workers' flush clocks. */
  since = 0;
  private readonly index = new Map<string, Map<string, number>>();

  constructor(
    readonly mode: 'stream' | 'count',
    private readonly results: ReadonlyArray<{ peId: string; port: string }>,
    private readonly batchItems: number,
    private readonly report: Report,
    private readonly guard: HeapGuard,
  ) {
    super({ collect: 'count' });
    results.forEach((r, i) => {
      let ports = this.index.get(r.peId);
      if (!ports) this.index.set(r.peId, (ports = new Map()));
      ports.set(r.port, i);
    });
  }

  override add(peId: string, port: string, value: unknown): void {
    if (this.mode === 'count') {
      super.add(peId, port, value);
      return;
    }
    if (this.buffer.length === 0) this.since = performance.now();
    this.buffer.push(this.index.get(peId)!.get(port)!, value);
    if (this.buffer.length >= this.batchItems * 2) this.flush();
  }

  get pending(): boolean {
    return this.buffer.length > 0;
  }

  flush(): void {
    if (this.buffer.length === 0) return;
    const buffer = this.buffer;
    const bytes = ownBytes(this.guard.encodeBatch(buffer, (i) => (i % 2 === 1 ? this.results[buffer[i - 1] as number] : undefined)));
    this.buffer = [];
    this.since = 0;
    this.report({ type: 'results', bytes });
  }

  countsForDriver(): RunOutputCounts | undefined {
    return this.mode === 'count' ? this.counts : undefined;
  }
}

/** The earlier of two "buffered since" times, where 0 means nothing is buffered. */
export function oldestSince(a: number, b: number): number {
  return a === 0 ? b : b === 0 ? a : Math.min(a, b);
}

/** This thread's heap in use now, in MB (sampled for the stats; cheaper than process.memoryUsage()). */
export function heapMb(): number {
  return getHeapStatistics().used_heap_size / 1048576;
}
