import { decode, defaultLog, type PEStats, type RunOptions, type RunOutputCounts } from '@d4/core';
import { mergeStats, type OutputCollector } from '@d4/core/internal';
import type { WorkerMessage } from '../protocol.js';
import { fromWireError } from '../wire-errors.js';

/**
 * What the driver does with what workers report, for every backend: results to the run's
 * collector (kept, counted or streamed to onOutput), PEs' log lines to the run's log,
 * progress into the live counters, each unit's final figures into the run's stats. A
 * reported error is thrown, rebuilt as the worker's D4Error: the caller fails the run.
 */
export class DriverReports {
  readonly stats: Record<string, PEStats> = {};
  peakWorkerHeapMb = 0;
  batchesSent = 0;
  itemsSent = 0;
  /** Units (or workers) that reported 'ready' and 'done'. */
  ready = 0;
  done = 0;
  private readonly progressBySource: Array<Record<string, number>> = [];

  constructor(
    private readonly collector: OutputCollector,
    private readonly results: ReadonlyArray<{ peId: string; port: string }>,
    private readonly options: RunOptions,
  ) {}

  /** Handles one message; `where` names the sender for errors that are not d4's own. */
  handle(message: WorkerMessage, where: string): void {
    switch (message.type) {
      case 'results': {
        const items = decode<unknown[]>(message.bytes);
        for (let i = 0; i < items.length; i += 2) {
          const r = this.results[items[i] as number];
          this.collector.add(r.peId, r.port, items[i + 1]);
        }
        return;
      }
      case 'log':
        (this.options.log ?? defaultLog)(message.peId, message.instance, message.message);
        return;
      case 'progress': {
        const progress = this.options.progress;
        if (!progress) return;
        // Kept per source, absolute: one thread or process may host several sources.
        this.progressBySource[message.source] = message.calls;
        const total: Record<string, number> = {};
        for (const calls of this.progressBySource) if (calls) for (const [id, n] of Object.entries(calls)) total[id] = (total[id] ?? 0) + n;
        Object.assign(progress.calls, total);
        return;
      }
      case 'ready':
        this.ready++;
        return;
      case 'done':
        this.final(message.stats, message.counts, message.peakHeapMb);
        this.batchesSent += message.batchesSent;
        this.itemsSent += message.itemsSent;
        this.done++;
        return;
      case 'error':
        throw fromWireError(message.error, where);
    }
  }

  /** At the end of a run: the progress counters become the exact final counts. */
  settleProgress(): void {
    const progress = this.options.progress;
    if (progress) for (const [id, s] of Object.entries(this.stats)) progress.calls[id] = s.calls;
  }

  /** A unit's or worker's final figures. */
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
