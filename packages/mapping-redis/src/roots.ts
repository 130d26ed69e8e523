import { WorkerError, defaultLog, feedCall, feedSize, type GenericPE, type PEStats, type RootFeed } from '@d4/core';
import { FlushClock, LocalEngine, OutputCollector, abortError, mergeStats, unconnectedPorts } from '@d4/runtime';
import { sleep, type JobContext } from './job-context.js';
import type { Outbox } from './outbox.js';

/** Stream entries a driver lets wait in Redis before its sources pause (back-pressure). */
const MAX_IN_FLIGHT = 2000;
/** A slow source's items wait at most this long for a commit. */
const FLUSH_MS = 5;

/**
 * The roots run in the driver, one instance each (dispel4py gives every source one
 * process), fed from core's input rules; their writes go through the driver's outbox.
 * Full batches go at once, a slow source's items within a few milliseconds, and the
 * sources pause while more than MAX_IN_FLIGHT entries wait in Redis.
 */
export class Roots {
  private readonly engines: LocalEngine[] = [];
  /** Never flushed yet: a source's first items go at once. */
  private lastFlush = Number.NEGATIVE_INFINITY;
  /** The runtime's flush clock: reads the time every few items, not after each. */
  private readonly clock = new FlushClock(FLUSH_MS);

  constructor(
    private readonly ctx: JobContext,
    private readonly outbox: Outbox,
    private readonly collector: OutputCollector,
  ) {}

  async run(feeds: readonly RootFeed[]): Promise<void> {
    const { graph, options, parsed } = this.ctx;
    const pes = graph.pes();
    const unconnected = unconnectedPorts(pes, graph.peEdges());
    const roots: { pe: GenericPE; engine: LocalEngine; feed: RootFeed }[] = [];
    for (const feed of feeds) {
      const index = pes.findIndex((pe) => pe.id === feed.peId);
      const pe = pes[index];
      pe.instance = 0;
      pe.numInstances = 1;
      const engine = new LocalEngine({
        pes: [pe],
        localEdges: [],
        externalPorts: this.outbox.externalPorts(index),
        external: this.outbox.writerFor(index, 0),
        unconnectedPorts: unconnected,
        collector: this.collector,
        log: options.log ?? defaultLog,
        progress: options.progress,
      });
      this.engines.push(engine);
      roots.push({ pe, engine, feed });
    }
    for (const root of roots) await root.engine.preprocess();
    const flushAt = parsed.tuning.batchSize * 4;
    const signal = options.signal;
    for (const { pe, engine, feed } of roots) {
      const total = feedSize(feed);
      for (let k = 0; k < total; k++) {
        const pending = engine.feed(pe, feedCall(feed, k));
        if (pending !== undefined) await this.clock.settle(pending);
        const waiting = this.outbox.pending;
        if (waiting >= flushAt || this.clock.due(waiting > 0 ? this.lastFlush : 0)) await this.flush();
        if (this.ctx.stopped()) return;
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

  private async flush(): Promise<void> {
    const { redis, keys } = this.ctx;
    this.lastFlush = performance.now();
    const result = await this.outbox.commit();
    if (!result) throw new WorkerError(`job ${keys.job} lost its keys on the Redis server mid-run (deleted by someone else, or the server restarted without persistence)`, 'D4_REDIS_JOB_LOST');
    if (result.inFlight > MAX_IN_FLIGHT) {
      // Back-pressure: let the workers catch up instead of filling the server's memory.
      while (!this.ctx.stopped() && Number(await redis.hget(keys.counters, 'all')) > MAX_IN_FLIGHT / 2) await sleep(5);
    }
  }
}
