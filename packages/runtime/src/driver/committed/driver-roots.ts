import { defaultLog, feedCall, feedSize, type GenericPE, type PEStats, type RootFeed, type RunOptions, type WorkflowGraph } from '@d4/core';
import { LocalEngine, abortError, mergeStats, unconnectedPorts, type OutputCollector } from '@d4/core/internal';
import { FlushClock } from '../../worker/flush-clock.js';
import { connectedPorts } from '../../worker/committed/write-routes.js';

/** A slow source's items wait at most this long for a commit. */
const FLUSH_MS = 5;

/** Where the roots' writes go: the transport's buffer of what the next commit writes. */
export interface RootOutbox {
  /** Values written since the last commit. */
  readonly pending: number;
  writerFor(peIndex: number, instance: number): (pe: GenericPE, port: string, value: unknown) => void;
}

export interface DriverRootsSetup {
  graph: WorkflowGraph;
  outbox: RootOutbox;
  collector: OutputCollector;
  options: RunOptions;
  /** Values that make a commit at once (the transport's batch, a few times over). */
  flushAt: number;
  /** Commits what the roots wrote; resolves when the roots may go on (the transport's back-pressure). */
  flush(): Promise<void>;
  /** The run is ending: the roots stop feeding. */
  stopped(): boolean;
}

/**
 * The roots of an at-least-once job run in the driver, one instance each (dispel4py gives
 * every source one process), fed from core's input rules; their writes go through the
 * transport's outbox. Full batches go at once, a slow source's items within a few
 * milliseconds (the runtime's flush clock reads the time every few items, not after each).
 */
export class DriverRoots {
  private readonly engines: LocalEngine[] = [];
  /** Never flushed yet: a source's first items go at once. */
  private lastFlush = Number.NEGATIVE_INFINITY;
  private readonly clock = new FlushClock(FLUSH_MS);

  constructor(private readonly setup: DriverRootsSetup) {}

  async run(feeds: readonly RootFeed[]): Promise<void> {
    const { graph, options, outbox, flushAt } = this.setup;
    const pes = graph.pes();
    const edges = graph.peEdges();
    const unconnected = unconnectedPorts(pes, edges);
    const roots: { pe: GenericPE; engine: LocalEngine; feed: RootFeed }[] = [];
    for (const feed of feeds) {
      const index = pes.findIndex((pe) => pe.id === feed.peId);
      const pe = pes[index];
      pe.instance = 0;
      pe.numInstances = 1;
      const engine = new LocalEngine({
        pes: [pe],
        localEdges: [],
        externalPorts: connectedPorts(edges, pe),
        external: outbox.writerFor(index, 0),
        unconnectedPorts: unconnected,
        collector: this.setup.collector,
        log: options.log ?? defaultLog,
        progress: options.progress,
      });
      this.engines.push(engine);
      roots.push({ pe, engine, feed });
    }
    for (const root of roots) await root.engine.preprocess();
    const signal = options.signal;
    for (const { pe, engine, feed } of roots) {
      const total = feedSize(feed);
      for (let k = 0; k < total; k++) {
        const pending = engine.feed(pe, feedCall(feed, k));
        if (pending !== undefined) await this.clock.settle(pending);
        const waiting = outbox.pending;
        if (waiting >= flushAt || this.clock.due(waiting > 0 ? this.lastFlush : 0)) await this.flush();
        if (this.setup.stopped()) return;
        if ((k & 1023) === 1023 && signal?.aborted) throw abortError(signal);
      }
    }
    for (const { pe, engine } of roots) await engine.postprocessOne(pe);
    await this.flush();
  }

  /** The roots' figures, merged into `into`. */
  mergeStatsInto(into: Record<string, PEStats>): void {
    for (const engine of this.engines) mergeStats(into, engine.stats());
  }

  private flush(): Promise<void> {
    this.lastFlush = performance.now();
    return this.setup.flush();
  }
}
