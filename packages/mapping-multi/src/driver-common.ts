import { decode, defaultLog, type PEStats, type RunOptions, type RunOutputCounts } from '@d4/core';
import { mergeStats, type OutputCollector } from '@d4/runtime';

/**
 * What the driver does with the messages every kind of worker posts: results, logs,
 * progress and the final figures.
 */
export class DriverSink {
  readonly stats: Record<string, PEStats> = {};
  peakWorkerHeapMb = 0;
  private readonly progressByWorker: Array<Record<string, number>> = [];

  constructor(
    private readonly collector: OutputCollector,
    private readonly results: ReadonlyArray<{ peId: string; port: string }>,
    private readonly options: RunOptions,
  ) {}

  /** Handles a common message; returns false for a mapping-specific one. */
  handle(index: number, message: any): boolean {
    switch (message.type) {
      case 'out': {
        const items = decode<unknown[]>(message.bytes);
        for (let i = 0; i < items.length; i += 2) {
          const r = this.results[items[i] as number];
          this.collector.add(r.peId, r.port, items[i + 1]);
        }
        return true;
      }
      case 'log':
        (this.options.log ?? defaultLog)(message.peId, message.instance, message.message);
        return true;
      case 'progress': {
        const progress = this.options.progress;
        if (!progress) return true;
        // Keyed by the unit (multi) or copy (dyn_*) that sent it: one thread may host several.
        this.progressByWorker[message.unit ?? message.copy ?? index] = message.calls;
        const total: Record<string, number> = {};
        for (const calls of this.progressByWorker) if (calls) for (const [id, n] of Object.entries(calls)) total[id] = (total[id] ?? 0) + n;
        Object.assign(progress.calls, total);
        return true;
      }
      default:
        return false;
    }
  }

  /** At the end of a run: the progress counters become the exact final counts. */
  settleProgress(): void {
    const progress = this.options.progress;
    if (progress) for (const [id, s] of Object.entries(this.stats)) progress.calls[id] = s.calls;
  }

  /** A worker's final figures. */
  final(stats: Record<string, PEStats>, counts: RunOutputCounts | undefined, peakHeapMb: number | undefined): void {
    mergeStats(this.stats, stats);
    if (counts) {
      for (const [peId, ports] of Object.entries(counts)) {
        const into = (this.collector.counts[peId] ??= {});
        for (const [port, n] of Object.entries(ports)) into[port] = (into[port] ?? 0) + n;
      }
    }
    if (peakHeapMb && peakHeapMb > this.peakWorkerHeapMb) this.peakWorkerHeapMb = peakHeapMb;
  }
}
