import { D4Error, encodeBatch, rebuildWorkflow, type GenericPE, type PEEdge, type PEInputs, type WorkflowSource } from '@d4/core';
import { LocalEngine, portKey, unconnectedPorts } from '@d4/core/internal';
import { checkSameGraph } from '../graph-check.js';
import type { DynamicPlan } from '../plans/dynamic.js';
import type { PoolCommand, PoolReply, WorkerMessage } from '../protocol.js';
import type { CounterSlots } from '../driver/call-counters.js';
import { FlushClock } from './flush-clock.js';
import { HeapGuard } from './heap-guard.js';
import { ResultSink, heapMb, oldestSince, ownBytes, reportingLog } from './result-sink.js';

/**
 * What a host (thread, process) of a shared pool is given by the backend: commands from the
 * driver for its workers, and a way to report. A host may run several workers.
 */
export interface PoolTransport {
  /** Commands for this host's workers, in the order the driver sent them. */
  onCommand(listener: (command: PoolCommand) => void): void;
  report(message: WorkerMessage | PoolReply): void;
}

/** What a host of a shared pool runs: the same for every host but `workers`. */
export interface PoolWorkerJob {
  source: WorkflowSource;
  /** The workers this host runs (indices in 0..size-1). */
  workers: number[];
  size: number;
  plan: DynamicPlan;
  results: 'stream' | 'count';
  /** Where each of `workers` publishes its call counts (same order), when the run keeps progress. */
  counters?: CounterSlots[];
  /** The host's heap limit (MB), when the backend sets one: large allocations are checked first. */
  heapLimitMb?: number;
  /** One Int32 per worker: the driver sets it to ask the worker to hand back part of its batch. */
  steal: SharedArrayBuffer;
  batchItems: number;
  flushMs: number;
}

interface Target {
  readonly pe: GenericPE;
  readonly port: string | null;
}

/**
 * A worker of a shared pool (dyn_multi, dyn_auto_multi, dyn_memory). It keeps one copy of every PE (preprocess once,
 * postprocess once when the driver asks, PE by PE in graph order) and runs whatever
 * (PE, item) tasks the driver hands it, in batches. Each write becomes one task per edge
 * leaving that port (every edge, so tee and split/merge graphs lose nothing), sent back to
 * the driver's shared queue in batches.
 */
class PoolWorker {
  private readonly engine: LocalEngine;
  private readonly sink: ResultSink;
  private readonly targets: Target[];
  private readonly routes = new Map<GenericPE, Map<string, number[]>>();
  private readonly steal: Int32Array;
  private readonly maxFlat: number;
  private out: unknown[] = [];
  private outSince = 0;
  private readonly inbox: PoolCommand[] = [];
  private waiter: (() => void) | null = null;
  private peakHeap = 0;
  private readonly clock: FlushClock;
  private readonly guard: HeapGuard;
  private nextSample = 0;

  constructor(
    private readonly data: PoolWorkerJob,
    private readonly transport: PoolTransport,
    private readonly index: number,
    private readonly pes: GenericPE[],
    edges: readonly PEEdge[],
    counters: CounterSlots | undefined,
  ) {
    for (const pe of pes) {
      pe.instance = index;
      pe.numInstances = data.size;
    }
    const byId = new Map(pes.map((pe) => [pe.id, pe]));
    this.targets = data.plan.targets.map((t) => ({ pe: byId.get(t.peId)!, port: t.port }));
    const targetIndex = new Map(data.plan.targets.map((t, i) => [t.port === null ? '' : portKey(t.peId, t.port), i]));
    const externalPorts = new Set<string>();
    for (const e of edges) {
      externalPorts.add(portKey(e.from.id, e.fromPort));
      let byPort = this.routes.get(e.from);
      if (!byPort) this.routes.set(e.from, (byPort = new Map()));
      const list = byPort.get(e.fromPort) ?? [];
      list.push(targetIndex.get(portKey(e.to.id, e.toPort))!);
      byPort.set(e.fromPort, list);
    }
    this.steal = new Int32Array(data.steal);
    this.maxFlat = data.batchItems * 2;
    this.clock = new FlushClock(data.flushMs);
    this.guard = new HeapGuard(data.heapLimitMb);
    this.sink = new ResultSink(data.results, data.plan.results, data.batchItems, (m) => transport.report(m), this.guard);
    this.engine = new LocalEngine({
      pes,
      localEdges: [],
      externalPorts,
      external: (pe, port, value) => {
        const list = this.routes.get(pe)!.get(port)!;
        for (let i = 0; i < list.length; i++) this.out.push(list[i], value);
        if (this.outSince === 0) this.outSince = performance.now();
      },
      unconnectedPorts: unconnectedPorts(pes, edges),
      collector: this.sink,
      log: reportingLog((m) => transport.report(m)),
      callCounters: counters && { array: new Float64Array(counters.buffer), slots: counters.slots },
    });
  }

  receive(message: PoolCommand): void {
    this.inbox.push(message);
    const waiter = this.waiter;
    if (waiter) {
      this.waiter = null;
      waiter();
    }
  }

  private post(message: DistributiveOmit<PoolReply, 'worker'>): void {
    this.transport.report({ ...message, worker: this.index } as PoolReply);
  }

  async run(): Promise<void> {
    await this.engine.preprocess();
    this.sendOut('ready', true);
    for (;;) {
      if (this.inbox.length === 0) {
        this.sink.flush();
        this.sample();
        await new Promise<void>((resolve) => {
          this.waiter = resolve;
        });
        continue;
      }
      const message = this.inbox.shift()!;
      if (message.type === 'batch') {
        await this.processBatch(message.bytes);
      } else if (message.type === 'post') {
        const pe = this.pes.find((p) => p.id === message.peId)!;
        await this.engine.postprocessOne(pe);
        this.sendOut('posted', true);
      } else if (message.type === 'finish') {
        this.sink.flush();
        this.sample();
        this.post({ type: 'final', stats: this.engine.stats(), counts: this.sink.countsForDriver(), peakHeapMb: this.peakHeap });
        return;
      }
    }
  }

  private async processBatch(bytes: Uint8Array): Promise<void> {
    const items = this.guard.decode<unknown[]>(bytes, `worker ${this.index}`);
    const targets = this.targets;
    const me = this.index;
    // Root calls stay where the driver sent them (a source runs as one instance), so they are never handed back.
    const stealable = items.length > 0 && targets[items[0] as number].port !== null;
    let end = items.length;
    // Another PE's batch may run at another pace than the last one.
    this.clock.readNext();
    for (let pos = 0; pos < end; ) {
      const target = targets[items[pos] as number];
      let inputs: PEInputs;
      if (target.port === null) inputs = items[pos + 1] as PEInputs;
      else {
        inputs = {};
        inputs[target.port] = items[pos + 1];
      }
      pos += 2;
      const pending = this.engine.feed(target.pe, inputs);
      if (pending !== undefined) await this.clock.settle(pending);
      if (this.out.length >= this.maxFlat) this.sendOut('tasks', false);
      else if (this.clock.due(oldestSince(this.outSince, this.sink.since))) {
        // Results too: a caller streaming them (onOutput) must not wait for a slow batch's end.
        this.sendOut('tasks', false);
        this.sink.flush();
      }
      if (Atomics.load(this.steal, me) !== 0) end = this.answerIdlePeer(items, pos, end, stealable);
    }
    // A request still open is answered by the end of the batch: its 'done' carries the tasks.
    Atomics.store(this.steal, me, 0);
    this.sendOut('tasks', true);
    this.sample();
  }

  /**
   * A worker elsewhere idles with nothing queued: it gets the tasks made so far and the last
   * quarter of this batch (outputs alone may be a few cheap tasks, and the peer would ask
   * again at once). With nothing to give yet (a source's batch, the last few tasks), the
   * request stays open for the next item. Returns the batch's new end.
   */
  private answerIdlePeer(items: unknown[], pos: number, end: number, stealable: boolean): number {
    const give = stealable ? Math.floor((end - pos) / 4) : 0;
    if (give < 1 && this.out.length === 0) return end;
    Atomics.store(this.steal, this.index, 0);
    if (this.out.length > 0) this.sendOut('tasks', false, give < 1);
    if (give < 1) return end;
    const back = ownBytes(encodeBatch(items.slice(end - give * 2, end)));
    this.post({ type: 'tasks', bytes: back, n: give, done: false, answered: true });
    return end - give * 2;
  }

  /** Sends the tasks made so far to the driver's queue; `done` also reports the batch finished. */
  private sendOut(type: 'tasks' | 'ready' | 'posted', done: boolean, answered = false): void {
    const out = this.out;
    if (out.length === 0) {
      if (done) this.post({ type, n: 0, done });
      return;
    }
    const bytes = ownBytes(
      this.guard.encodeBatch(out, (i) => {
        if (i % 2 === 0) return undefined;
        const t = this.data.plan.targets[out[i - 1] as number];
        for (const [pe, byPort] of this.routes) for (const [port, list] of byPort) if (list.includes(out[i - 1] as number)) return { peId: pe.id, port };
        return { peId: t.peId, port: t.port ?? '' };
      }),
    );
    this.out = [];
    this.outSince = 0;
    this.post({ type, bytes, n: out.length / 2, done, answered });
  }

  private sample(): void {
    const now = performance.now();
    if (now < this.nextSample) return;
    this.nextSample = now + 50;
    const heap = heapMb();
    if (heap > this.peakHeap) this.peakHeap = heap;
  }
}

/**
 * A host of a shared pool runs one or more workers, each with PE objects of its own
 * (the driver only puts several workers in a host when rebuilding the graph gives fresh PE
 * objects each time, i.e. the module exports a factory). Commands carry the worker.
 */
export async function runPoolWorker(data: PoolWorkerJob, transport: PoolTransport): Promise<void> {
  const workers = new Map<number, PoolWorker>();
  const seen = new Set<GenericPE>();
  for (const [k, index] of data.workers.entries()) {
    let graph = (await rebuildWorkflow(data.source)).flatten().validate();
    // A module that exports a graph object gives the same PE objects to every import in a
    // thread: the next worker gets an evaluation of the module of its own, as a process would.
    if (graph.pes().some((pe) => seen.has(pe))) graph = (await rebuildWorkflow(data.source, String(index))).flatten().validate();
    checkSameGraph(graph, data.plan.peIds, data.source.module);
    const pes = graph.pes();
    if (pes.some((pe) => seen.has(pe))) {
      throw new D4Error(
        'D4_WORKFLOW_SHARED_PES',
        `the workflow module ${data.source.module} gives every worker of this thread the same PE objects, even when imported afresh (its graph is built in a module it imports); export a function (args) => graph that builds new PEs on each call`,
      );
    }
    for (const pe of pes) seen.add(pe);
    workers.set(index, new PoolWorker(data, transport, index, pes, graph.peEdges(), data.counters?.[k]));
  }
  transport.onCommand((command) => workers.get(command.worker)!.receive(command));
  await Promise.all([...workers.values()].map((worker) => worker.run()));
}

/** Omit over each member of a union (the built-in Omit merges the members). */
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
