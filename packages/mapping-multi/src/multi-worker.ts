import type { MessagePort } from 'node:worker_threads';
import {
  LocalEngine,
  createRouter,
  portKey,
  rebuildWorkflow,
  unconnectedPorts,
  type GenericPE,
  type PEEdge,
  type PEInputs,
  type RootFeed,
  type Router,
  type ValueOrigin,
  type WorkflowSource,
} from '@d4/core';
import type { MultiPlan } from './multi-plan.js';
import type { Tuning } from './tuning.js';
import type { CounterSlots } from './call-counters.js';
import { HeapGuard } from './heap-guard.js';
import { FlushClock } from './flush-clock.js';
import { ResultSink, heapMb, messageBytes, oldestSince, post, workerLog } from './worker-context.js';

export interface MultiWorkerData {
  kind: 'multi';
  source: WorkflowSource;
  plan: MultiPlan;
  /** The units this thread runs, each with its links. */
  units: UnitWiring[];
  results: 'stream' | 'count';
  tuning: Tuning;
  /** --worker-memory, for the heap guard. */
  memoryMb?: number;
}

export interface UnitWiring {
  unit: number;
  /** A link from a unit in the same thread has no port: the thread pairs them up itself. */
  inbound: Array<{ from: number; port?: MessagePort }>;
  outbound: Array<{ to: number; port?: MessagePort }>;
  /** Where the unit's engine publishes call counts, when the run keeps progress. */
  counters?: CounterSlots;
}

/** What a link end needs of a port: a MessagePort, or an in-thread stand-in. */
interface LinkPort {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (message: any) => void): unknown;
}

/**
 * Both ends of a link between two units of the same thread. Batches pass as arrays, by
 * reference (as between PEs in `simple`), with no encoding; delivery is synchronous, which
 * is safe because a delivery only queues the batch and wakes the receiver's loop.
 */
class LocalPort implements LinkPort {
  other!: LocalPort;
  private listener: ((message: any) => void) | undefined;
  on(_event: 'message', listener: (message: any) => void): this {
    this.listener = listener;
    return this;
  }
  postMessage(message: unknown): void {
    this.other.listener!(message);
  }
  static pair(): [LocalPort, LocalPort] {
    const a = new LocalPort();
    const b = new LocalPort();
    a.other = b;
    b.other = a;
    return [a, b];
  }
}

/** On a link: the receiver's acknowledgement of one processed batch, and end of stream. */
const ACK = 1;
const EOS = 'eos';

/** The sending end of a link to one downstream unit; `inflight` batches are not yet acknowledged. */
interface OutLink {
  readonly to: number;
  readonly port: LinkPort;
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
  readonly port: LinkPort;
  /** Absent for end-of-stream. */
  readonly batch?: Uint8Array | unknown[];
}

interface CurrentBatch {
  readonly port: LinkPort;
  readonly items: unknown[];
  pos: number;
}

interface LocalTarget {
  readonly pe: GenericPE;
  readonly port: string;
}

/**
 * One unit of a `multi` run in its worker thread: a PE instance, or a partition's
 * sub-graph. Items arrive in batches from upstream units, are processed one by one, and
 * what the unit writes is batched per downstream unit. A batch is acknowledged when it has
 * been processed; a sender stops while it has `credit` unacknowledged batches towards a
 * receiver, so a slow consumer slows its producers and queues stay bounded.
 * The unit ends when every upstream unit sent end-of-stream and its queue is drained: then
 * it runs postprocess(), sends what that writes, and sends end-of-stream downstream.
 */
export class MultiUnit {
  private readonly engine: LocalEngine;
  private readonly sink: ResultSink;
  private readonly links: OutLink[] = [];
  private readonly linkByUnit: OutLink[] = [];
  private readonly routes = new Map<GenericPE, Map<string, Route[]>>();
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
    private readonly data: MultiWorkerData,
    private readonly wiring: UnitWiring,
    ports: { inbound: LinkPort[]; outbound: LinkPort[] },
    pes: GenericPE[],
    allPes: GenericPE[],
    edges: readonly PEEdge[],
  ) {
    const { plan, tuning } = data;
    this.maxFlat = tuning.batchItems * 2;
    this.clock = new FlushClock(tuning.flushMs);
    this.guard = new HeapGuard(data.memoryMb);
    const mine = new Set(pes);
    for (const pe of pes) {
      pe.instance = plan.units[wiring.unit].instance[pe.id];
      pe.numInstances = plan.numInstances[pe.id];
    }
    for (const [i, { to }] of wiring.outbound.entries()) {
      const port = ports.outbound[i];
      const link: OutLink = { to, port, local: port instanceof LocalPort, entries: [], inflight: 0 };
      port.on('message', () => this.onAck(link));
      this.links.push(link);
      this.linkByUnit[to] = link;
    }
    for (const port of ports.inbound) port.on('message', (message: Uint8Array | unknown[] | string) => this.onInbound(port, message));
    this.eosExpected = wiring.inbound.length;

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
      return pe ? { pe, port: t.port } : undefined;
    });
    this.sink = new ResultSink(data.results, plan.results, tuning.batchItems, this.guard);
    this.engine = new LocalEngine({
      pes,
      localEdges: edges.filter((e) => mine.has(e.from) && mine.has(e.to)),
      externalPorts,
      external: (pe, port, value) => this.send(pe, port, value),
      unconnectedPorts: unconnectedPorts(allPes, edges),
      collector: this.sink,
      log: workerLog,
      callCounters: wiring.counters && { array: new Float64Array(wiring.counters.buffer), slots: wiring.counters.slots },
    });
    this.feeds = plan.units[wiring.unit].feeds.map((feed) => ({ pe: pes.find((p) => p.id === feed.peId)!, feed }));
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
        const total = feed.items ? feed.items.length : feed.count ?? 0;
        const stop = Math.min(total, feedPos + 1024);
        while (feedPos < stop) {
          const pending = this.engine.feed(pe, feed.items ? feed.items[feedPos] : {});
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
      link.port.postMessage(EOS);
    }
    this.sink.flush();
    this.sample();
    post({ type: 'done', unit: this.wiring.unit, stats: this.engine.stats(), counts: this.sink.countsForDriver(), peakHeapMb: this.peakHeap, batchesSent: this.batchesSent, itemsSent: this.itemsSent });
  }

  private sample(): void {
    const heap = heapMb();
    if (heap > this.peakHeap) this.peakHeap = heap;
  }

  /** The PE instances of this unit, for error messages. */
  private describe(): string {
    const unit = this.data.plan.units[this.wiring.unit];
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
    const items = current.items;
    const targets = this.localTargets;
    while (current.pos < items.length) {
      const target = targets[items[current.pos] as number]!;
      const inputs: PEInputs = {};
      inputs[target.port] = items[current.pos + 1];
      current.pos += 2;
      const pending = this.engine.feed(target.pe, inputs);
      if (pending !== undefined) await this.clock.settle(pending);
      if (this.clock.due(oldestSince(this.pendingSince, this.sink.since))) this.flushAll();
      if (this.blocked) return;
    }
    this.current = null;
    current.port.postMessage(ACK);
  }

  /** A write on a port that leaves this unit: routed to the destination instance(s). */
  private send(pe: GenericPE, port: string, value: unknown): void {
    const routes = this.routes.get(pe)!.get(port)!;
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
      if (link.inflight < this.data.tuning.credit) {
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
      link.port.postMessage(entries);
      return;
    }
    const bytes = messageBytes(
      this.guard.encodeBatch(entries, (i) => {
        if (i % 2 === 0) return undefined;
        const target = this.data.plan.targets[entries[i - 1] as number];
        for (const byPort of this.routes.values()) for (const list of byPort.values()) for (const r of list) if (r.target === entries[i - 1]) return r.origin;
        return { peId: target.peId, port: target.port };
      }),
    );
    link.port.postMessage(bytes);
  }

  /** Sends every partial batch that has credit; the rest go when their acknowledgement comes. */
  private flushAll(): void {
    let left = false;
    for (const link of this.links) {
      if (link.entries.length === 0) continue;
      if (link.inflight < this.data.tuning.credit) this.sendBatch(link);
      else left = true;
    }
    this.sink.flush();
    this.pendingSince = left ? performance.now() : 0;
  }

  private onAck(link: OutLink): void {
    link.inflight--;
    if (link.entries.length >= this.maxFlat || (this.idle && link.entries.length > 0)) this.sendBatch(link);
    if (this.blocked) this.blocked = this.links.some((l) => l.entries.length >= this.maxFlat && l.inflight >= this.data.tuning.credit);
    this.wake();
  }

  private onInbound(port: LinkPort, message: Uint8Array | unknown[] | string): void {
    this.inbox.push(message === EOS ? { port } : { port, batch: message as Uint8Array | unknown[] });
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

/**
 * A worker thread of `multi` runs one or more units, each in its own cooperative loop.
 * The graph is rebuilt once per thread; the driver never puts two instances of one PE in
 * the same thread, so each unit has PE objects of its own.
 */
export async function runMultiWorker(data: MultiWorkerData): Promise<void> {
  const graph = (await rebuildWorkflow(data.source)).flatten().validate();
  const allPes = graph.pes();
  const edges = graph.peEdges();
  const localPairs = new Map<string, [LocalPort, LocalPort]>();
  const localEnd = (from: number, to: number, end: 0 | 1): LocalPort => {
    const key = `${from}>${to}`;
    let pair = localPairs.get(key);
    if (!pair) localPairs.set(key, (pair = LocalPort.pair()));
    return pair[end];
  };
  const units = data.units.map((wiring) => {
    const pes = data.plan.units[wiring.unit].peIds.map((id) => {
      const pe = allPes.find((p) => p.id === id);
      if (!pe) throw new Error(`the rebuilt graph has no PE ${id}; the workflow module builds a different graph in a worker (does it depend on time, randomness or the environment?)`);
      return pe;
    });
    const ports = {
      inbound: wiring.inbound.map((l) => l.port ?? localEnd(l.from, wiring.unit, 1)),
      outbound: wiring.outbound.map((l) => l.port ?? localEnd(wiring.unit, l.to, 0)),
    };
    return new MultiUnit(data, wiring, ports, pes, allPes, edges);
  });
  post({ type: 'ready' });
  await Promise.all(units.map((unit) => unit.run()));
}
