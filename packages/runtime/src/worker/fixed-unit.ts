import { createRouter, feedCall, feedSize, type GenericPE, type PEEdge, type PEInputs, type RootFeed, type Router, type ValueOrigin, type WorkflowSource } from '@d4/core';
import { LocalEngine, inputsMaker, portKey, unconnectedPorts } from '@d4/core/internal';
import type { MultiPlan } from '../plans/fixed.js';
import { ACK, END_OF_STREAM, type LinkFrame } from '../protocol.js';
import type { Link } from '../transport.js';
import type { CounterSlots } from '../driver/call-counters.js';
import { FlushClock } from './flush-clock.js';
import { HeapGuard } from './heap-guard.js';
import { ResultSink, heapMb, oldestSince, ownBytes, reportingLog, type Report } from './result-sink.js';
import type { Tuning } from './tuning.js';

/** What a worker of a fixed plan runs: the same for every worker but `units`. */
export interface FixedWorkerJob {
  source: WorkflowSource;
  plan: MultiPlan;
  /** The units this worker hosts. */
  units: number[];
  results: 'stream' | 'count';
  /** Where each of `units` publishes its call counts (same order), when the run keeps progress in shared memory. */
  counters?: CounterSlots[];
  /** The run keeps progress but this worker shares no memory with the driver: it reports its counts (progress-reports.ts). */
  reportProgress?: boolean;
  tuning: Tuning;
  /** The host's heap limit (MB), when the backend sets one: large allocations are checked first. */
  heapLimitMb?: number;
}

/** The sending end of a link to one downstream unit; `inflight` batches are not yet acknowledged. */
interface OutLink {
  readonly to: number;
  readonly port: Link;
  readonly local: boolean;
  entries: unknown[];
  inflight: number;
}

interface Route {
  readonly target: number;
  readonly router: Router;
  readonly links: OutLink[];
  readonly origin: ValueOrigin;
}

interface InboxEntry {
  readonly port: Link;
  /** Undefined for end-of-stream (present, so that both kinds of entry share one hidden class). */
  readonly batch: Uint8Array | unknown[] | undefined;
}

interface CurrentBatch {
  readonly port: Link;
  readonly items: unknown[];
  pos: number;
}

interface LocalTarget {
  readonly pe: GenericPE;
  /** Builds the call's `{port: value}`: a literal of one shape per port (a store under a computed key went megamorphic). */
  readonly inputs: (value: unknown) => PEInputs;
}

/**
 * One unit of a fixed plan in its worker: a PE instance, or a partition's sub-graph. Items arrive in batches from upstream units, are processed one by one, and
 * what the unit writes is batched per downstream unit. A batch is acknowledged when it has
 * been processed; a sender stops while it has `credit` unacknowledged batches towards a
 * receiver, so a slow consumer slows its producers and queues stay bounded.
 * The unit ends when every upstream unit sent end-of-stream and its queue is drained: then
 * it runs postprocess(), sends what that writes, and sends end-of-stream downstream.
 */
export class FixedUnit {
  private readonly engine: LocalEngine;
  private readonly sink: ResultSink;
  private readonly links: OutLink[] = [];
  private readonly linkByUnit: OutLink[] = [];
  private readonly routes = new Map<GenericPE, Map<string, Route[]>>();
  private lastPe: GenericPE | undefined;
  private lastPort = '';
  private lastRoutes: Route[] | undefined;
  private readonly localTargets: Array<LocalTarget | undefined>;
  private readonly feeds: Array<{ pe: GenericPE; feed: RootFeed }>;
  private readonly maxFlat: number;
  private readonly inbox: Array<InboxEntry | undefined> = [];
  private inboxHead = 0;
  private current: CurrentBatch | null = null;
  private eosSeen = 0;
  private readonly eosExpected: number;
  private blocked = false;
  private idle = false;
  private pendingSince = 0;
  private waiter: (() => void) | null = null;
  private peakHeap = 0;
  private readonly clock: FlushClock;
  private readonly guard: HeapGuard;
  private batchesSent = 0;
  private itemsSent = 0;

  constructor(
    private readonly job: FixedWorkerJob,
    private readonly unit: number,
    ports: { inbound: Link[]; outbound: Array<{ to: number; link: Link; local: boolean }> },
    pes: GenericPE[],
    allPes: GenericPE[],
    edges: readonly PEEdge[],
    private readonly report: Report,
    counters: CounterSlots | undefined,
  ) {
    const { plan, tuning } = job;
    this.maxFlat = tuning.batchItems * 2;
    this.clock = new FlushClock(tuning.flushMs);
    this.guard = new HeapGuard(job.heapLimitMb);
    const mine = new Set(pes);
    for (const pe of pes) {
      pe.instance = plan.units[unit].instance[pe.id];
      pe.numInstances = plan.numInstances[pe.id];
    }
    for (const { to, link: port, local } of ports.outbound) {
      const link: OutLink = { to, port, local, entries: [], inflight: 0 };
      port.onFrame(() => this.onAck(link));
      this.links.push(link);
      this.linkByUnit[to] = link;
    }
    for (const port of ports.inbound) port.onFrame((frame) => this.onInbound(port, frame));
    this.eosExpected = ports.inbound.length;

    const targetIndex = new Map(plan.targets.map((t, i) => [portKey(t.peId, t.port), i]));
    const externalPorts = new Set<string>();
    for (const e of edges) {
      if (!mine.has(e.from) || mine.has(e.to)) continue;
      externalPorts.add(portKey(e.from.id, e.fromPort));
      const units = plan.instanceUnits[e.to.id];
      const route: Route = {
        target: targetIndex.get(portKey(e.to.id, e.toPort))!,
        router: createRouter(e.to.inputs.get(e.toPort)!.grouping, e.from.instance, units.length, { peId: e.to.id, port: e.toPort }),
        links: units.map((u) => this.linkByUnit[u]),
        origin: { peId: e.from.id, port: e.fromPort },
      };
      let byPort = this.routes.get(e.from);
      if (!byPort) this.routes.set(e.from, (byPort = new Map()));
      const list = byPort.get(e.fromPort) ?? [];
      list.push(route);
      byPort.set(e.fromPort, list);
    }
    this.localTargets = plan.targets.map((t) => {
      const pe = pes.find((p) => p.id === t.peId);
      return pe ? { pe, inputs: inputsMaker(t.port) } : undefined;
    });
    this.sink = new ResultSink(job.results, plan.results, tuning.batchItems, report, this.guard);
    this.engine = new LocalEngine({
      pes,
      localEdges: edges.filter((e) => mine.has(e.from) && mine.has(e.to)),
      externalPorts,
      external: (pe, port, value) => this.send(pe, port, value),
      unconnectedPorts: unconnectedPorts(allPes, edges),
      collector: this.sink,
      log: reportingLog(report),
      callCounters: counters && { array: new Float64Array(counters.buffer), slots: counters.slots },
    });
    this.feeds = plan.units[unit].feeds.map((feed) => ({ pe: pes.find((p) => p.id === feed.peId)!, feed }));
  }

  async run(): Promise<void> {
    await this.engine.preprocess();
    let feedIndex = 0;
    let feedPos = 0;
    let turnAt = performance.now() + 10;
    for (;;) {
      if (this.blocked) {
        await this.wait();
        continue;
      }
      if (this.current || this.inboxHead < this.inbox.length) {
        await this.processInbound();
      } else if (feedIndex < this.feeds.length) {
        const { pe, feed } = this.feeds[feedIndex];
        const total = feedSize(feed);
        const stop = Math.min(total, feedPos + 1024);
        while (feedPos < stop) {
          const pending = this.engine.feed(pe, feedCall(feed, feedPos));
          feedPos++;
          if (pending !== undefined) await this.clock.settle(pending);
          if (this.clock.due(oldestSince(this.pendingSince, this.sink.since))) this.flushAll();
          if (this.blocked) break;
        }
        if (feedPos >= total) {
          feedIndex++;
          feedPos = 0;
        }
      } else if (this.eosSeen === this.eosExpected) {
        break;
      } else {
        await this.wait();
        continue;
      }
      // Long busy stretches still let acknowledgements and inbound batches in.
      const now = performance.now();
      if (now > turnAt) {
        this.sample();
        await new Promise<void>((resolve) => setImmediate(resolve));
        turnAt = performance.now() + 10;
      }
    }
    await this.engine.postprocess();
    for (const link of this.links) {
      if (link.entries.length) this.sendBatch(link);
      link.port.send(END_OF_STREAM);
    }
    this.sink.flush();
    this.sample();
    this.report({ type: 'done', source: this.unit, stats: this.engine.stats(), counts: this.sink.countsForDriver(), peakHeapMb: this.peakHeap, batchesSent: this.batchesSent, itemsSent: this.itemsSent });
  }

  private sample(): void {
    const heap = heapMb();
    if (heap > this.peakHeap) this.peakHeap = heap;
  }

  /** The PE instances of this unit, for error messages. */
  private describe(): string {
    const unit = this.job.plan.units[this.unit];
    return unit.peIds.map((id) => `PE ${id} instance ${unit.instance[id]}`).join(', ');
  }

  /** Processes the current inbound batch until it is done or a downstream link is full. */
  private async processInbound(): Promise<void> {
    let current = this.current;
    if (!current) {
      const entry = this.inbox[this.inboxHead]!;
      this.inbox[this.inboxHead++] = undefined;
      if (this.inboxHead > 1024 && this.inboxHead * 2 > this.inbox.length) {
        this.inbox.splice(0, this.inboxHead);
        this.inboxHead = 0;
      }
      if (!entry.batch) {
        this.eosSeen++;
        return;
      }
      current = this.current = { port: entry.port, items: Array.isArray(entry.batch) ? entry.batch : this.guard.decode<unknown[]>(entry.batch, this.describe()), pos: 0 };
    }
    return this.feedBatch(current);
  }

  /**
   * Feeds the current batch's items to their PEs until it is done or a downstream link is
   * full. A method of its own, apart from taking entries off the inbox: V8 optimises the
   * function that holds this loop (with the PE calls inlined into it, its costliest compile),
   * and an end-of-stream entry, first met at the end of the run, deoptimised that function
   * and had it compiled again then; the branch that meets it is no longer in here.
   */
  private async feedBatch(current: CurrentBatch): Promise<void> {
    const items = current.items;
    const targets = this.localTargets;
    while (current.pos < items.length) {
      const target = targets[items[current.pos] as number]!;
      const inputs = target.inputs(items[current.pos + 1]);
      current.pos += 2;
      const pending = this.engine.feed(target.pe, inputs);
      if (pending !== undefined) await this.clock.settle(pending);
      if (this.clock.due(oldestSince(this.pendingSince, this.sink.since))) this.flushAll();
      if (this.blocked) return;
    }
    this.current = null;
    current.port.send(ACK);
  }

  /** A write on a port that leaves this unit: routed to the destination instance(s). */
  private send(pe: GenericPE, port: string, value: unknown): void {
    // The same PE and port as the last write, almost always: two Map lookups per item saved.
    let routes = this.lastRoutes;
    if (pe !== this.lastPe || port !== this.lastPort || routes === undefined) {
      routes = this.lastRoutes = this.routes.get(pe)!.get(port)!;
      this.lastPe = pe;
      this.lastPort = port;
    }
    for (let r = 0; r < routes.length; r++) {
      const route = routes[r];
      if (route.router.broadcast) for (const link of route.links) this.push(link, route.target, value);
      else this.push(route.links[route.router.route(value)], route.target, value);
    }
  }

  private push(link: OutLink, target: number, value: unknown): void {
    link.entries.push(target, value);
    if (this.pendingSince === 0) this.pendingSince = performance.now();
    if (link.entries.length >= this.maxFlat) {
      if (link.inflight < this.job.tuning.credit) {
        this.sendBatch(link);
        // The flush timer measures the oldest unsent item: restart it if nothing else waits.
        if (this.links.every((l) => l.entries.length === 0)) this.pendingSince = 0;
      } else this.blocked = true;
    }
  }

  private sendBatch(link: OutLink): void {
    const entries = link.entries;
    link.entries = [];
    link.inflight++;
    this.batchesSent++;
    this.itemsSent += entries.length / 2;
    if (link.local) {
      link.port.send(entries);
      return;
    }
    const bytes = ownBytes(
      this.guard.encodeBatch(entries, (i) => {
        if (i % 2 === 0) return undefined;
        const target = this.job.plan.targets[entries[i - 1] as number];
        for (const byPort of this.routes.values()) for (const list of byPort.values()) for (const r of list) if (r.target === entries[i - 1]) return r.origin;
        return { peId: target.peId, port: target.port };
      }),
    );
    link.port.send(bytes);
  }

  /** Sends every partial batch that has credit; the rest go when their acknowledgement comes. */
  private flushAll(): void {
    let left = false;
    for (const link of this.links) {
      if (link.entries.length === 0) continue;
      if (link.inflight < this.job.tuning.credit) this.sendBatch(link);
      else left = true;
    }
    this.sink.flush();
    this.pendingSince = left ? performance.now() : 0;
  }

  private onAck(link: OutLink): void {
    link.inflight--;
    if (link.entries.length >= this.maxFlat || (this.idle && link.entries.length > 0)) this.sendBatch(link);
    if (this.blocked) this.blocked = this.links.some((l) => l.entries.length >= this.maxFlat && l.inflight >= this.job.tuning.credit);
    this.wake();
  }

  private onInbound(port: Link, frame: LinkFrame): void {
    // One object shape for both: an end-of-stream entry without the field made the optimised
    // processInbound deoptimise ('wrong map') when it met one, and recompile.
    this.inbox.push({ port, batch: frame === END_OF_STREAM ? undefined : (frame as Uint8Array | unknown[]) });
    this.wake();
  }

  /** Sends what is buffered and sleeps until a batch, an acknowledgement or end-of-stream arrives. */
  private async wait(): Promise<void> {
    this.flushAll();
    this.idle = true;
    await new Promise<void>((resolve) => {
      this.waiter = resolve;
    });
    this.idle = false;
  }

  private wake(): void {
    const waiter = this.waiter;
    if (waiter) {
      this.waiter = null;
      waiter();
    }
  }
}

