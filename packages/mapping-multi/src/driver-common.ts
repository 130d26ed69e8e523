import { decode, defaultLog, mergeStats, type OutputCollector, type PEStats, type RunOptions, type RunOutputCounts } from '@d4/core';

/**
 * What the driver does with the messages every kind of worker posts: results, logs,
 * progress and the final figures.
 */
export class DriverSink {
  readonly stats: Record<string, PEStats> = {};
  peakWorkerHeapMb = 0;

  constructor(
    private readonly collector: OutputCollector,
    private readonly results: ReadonlyArray<{ peId: string; port: string }>,
    private readonly options: RunOptions,
  ) {}

  /** Handles a common message; returns false for a mapping-specific one. */
  handle(message: any): boolean {
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
