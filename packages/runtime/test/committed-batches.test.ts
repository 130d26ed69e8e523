import { describe, expect, it } from '@jest/globals';
import { fileURLToPath } from 'node:url';
import { GenericPE, WorkflowGraph, encode, decode, loadWorkflow, requireWorkflowSource, type PEInputs } from '@d4/core';
import { OutputCollector } from '@d4/core/internal';
import { CommittedBatches, LazyInstances, ownPEs, routeWrite, runCommittedLoop, writeRoutes, type BatchSource, type CommitOutcome, type CommitTransport, type InputEntry } from '../src/index.js';

/**
 * The at-least-once loop pieces on an in-memory store shaped like Redis Streams: one
 * stream for the shared PEs, one per pinned unit; a commit moves a worker's buffered writes
 * into the streams and deletes what it acknowledges, atomically, or (fenced) nothing.
 */
interface Entry {
  id: number;
  stream: string;
  peIndex: number;
  port: string;
  payload: Uint8Array;
}

class MemoryStore {
  readonly streams = new Map<string, Entry[]>();
  readonly reports: [string, string | Uint8Array][] = [];
  private nextId = 1;

  add(stream: string, peIndex: number, port: string, values: unknown[]): void {
    const list = this.streams.get(stream) ?? [];
    list.push({ id: this.nextId++, stream, peIndex, port, payload: encode(values) });
    this.streams.set(stream, list);
  }

  take(stream: string): Entry[] {
    return [...(this.streams.get(stream) ?? [])];
  }

  values(stream: string): unknown[] {
    return this.take(stream).flatMap((e) => decode<unknown[]>(e.payload));
  }
}

type Ack = { stream: string; id: number };

/** One worker's end: writes buffered per (stream, target) until its commit. */
class MemoryWorkerTransport implements CommitTransport<Ack> {
  buffered = new Map<string, { stream: string; peIndex: number; port: string; values: unknown[] }>();
  fenced = false;
  commits = 0;
  constructor(private readonly store: MemoryStore) {}

  push(stream: string, peIndex: number, port: string, value: unknown): void {
    const key = `${stream}|${peIndex}|${port}`;
    let dest = this.buffered.get(key);
    if (!dest) this.buffered.set(key, (dest = { stream, peIndex, port, values: [] }));
    dest.values.push(value);
  }

  async commit(acks: readonly Ack[], reports: readonly [string, string | Uint8Array][] = []): Promise<CommitOutcome | undefined> {
    // The writes are taken now (a real transport sends them at once) and land a round trip later.
    const buffered = [...this.buffered.values()];
    this.buffered.clear();
    await new Promise((resolve) => setImmediate(resolve));
    if (this.fenced) throw new Error('fenced');
    this.commits++;
    const duplicates: number[] = [];
    acks.forEach((ack, i) => {
      const list = this.store.streams.get(ack.stream)!;
      const at = list.findIndex((e) => e.id === ack.id);
      if (at < 0) duplicates.push(i + 1);
      else list.splice(at, 1);
    });
    for (const dest of buffered) this.store.add(dest.stream, dest.peIndex, dest.port, dest.values);
    this.store.reports.push(...reports);
    return { duplicates, inFlight: [...this.store.streams.values()].reduce((n, l) => n + l.length, 0) };
  }
}

const counts = { pre: new Map<string, number>(), post: new Map<string, number>() };
const bump = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);

class Producer extends GenericPE {
  constructor() {
    super('Producer');
    this.addOutput('output');
  }
  process(): undefined {
    return undefined;
  }
}

class Pair extends GenericPE {
  constructor() {
    super('Pair');
    this.addInput('input');
    this.addOutput('output');
  }
  override preprocess(): void {
    bump(counts.pre, `${this.id}/${this.instance}`);
  }
  process(inputs: PEInputs) {
    const v = inputs.input as number;
    return { output: [v % 3, v * 2] };
  }
}

class SumByKey extends GenericPE {
  private readonly sums = new Map<number, number>();
  constructor() {
    super('SumByKey');
    this.addInput('input', { grouping: [0] });
    this.addOutput('output');
  }
  override preprocess(): void {
    bump(counts.pre, `${this.id}/${this.instance}`);
  }
  process(inputs: PEInputs): undefined {
    const [key, v] = inputs.input as [number, number];
    this.sums.set(key, (this.sums.get(key) ?? 0) + v);
    return undefined;
  }
  override postprocess(): void {
    bump(counts.post, `${this.id}/${this.instance}`);
    for (const [key, sum] of [...this.sums].sort((a, b) => a[0] - b[0])) this.write('output', [key, sum]);
  }
}


function pipeline(): { pes: GenericPE[]; g: WorkflowGraph } {
  const producer = new Producer();
  const pair = new Pair();
  const sum = new SumByKey();
  const g = new WorkflowGraph().connect(producer, 'output', pair, 'input').connect(pair, 'output', sum, 'input');
  return { pes: g.pes(), g };
}

const UNITS = 2;
const unitStream = (u: number) => `u${u}`;

/** A worker of the pipeline: a lazy instance factory whose writes go to its transport's buffer. */
function worker(store: MemoryStore, rank: number) {
  const { g } = pipeline();
  const pes = g.pes();
  const edges = g.peEdges();
  const transport = new MemoryWorkerTransport(store);
  const collector = new OutputCollector({ collect: 'values' });
  const instances = new LazyInstances({
    pes,
    edges,
    // A PE object of its own per instance, as ownPEs gives from a factory module.
    freshPE: (i) => pipeline().g.pes()[i],
    numbering: (_pe, unit) => (unit === undefined ? { instance: rank, numInstances: 2 } : { instance: unit, numInstances: UNITS }),
    writer: (peIndex, instance) => {
      const routes = writeRoutes<{ stream: string; to: number }>(edges, pes[peIndex], instance, (edge) => {
        const to = pes.indexOf(edge.to);
        return to === 2 ? { instances: [0, 1].map((u) => ({ stream: unitStream(u), to })) } : { shared: { stream: 'shared', to } };
      });
      return (_pe, port, value) => routeWrite(routes.get(port)!, value, (dest, v) => transport.push(dest.stream, dest.to, 'input', v));
    },
    collector,
    log: () => {},
  });
  const batches = new CommittedBatches<Ack>(instances, transport, { gone: () => new Error('job gone') });
  return { instances, batches, transport, collector };
}

const asInputs = (entries: Entry[]): InputEntry<Ack>[] =>
  entries.map((e) => ({ unit: e.stream === 'shared' ? undefined : Number(e.stream.slice(1)), peIndex: e.peIndex, port: e.port, payload: e.payload, ack: { stream: e.stream, id: e.id } }));

describe('the at-least-once worker pieces (committed batches, lazy instances, closing by command)', () => {
  it("makes a shared PE's copy on its first item, routes writes by grouping, and writes them only with the commit", async () => {
    counts.pre.clear();
    const store = new MemoryStore();
    for (let b = 0; b < 3; b++) store.add('shared', 1, 'input', [b * 4, b * 4 + 1, b * 4 + 2, b * 4 + 3]);
    const w = worker(store, 0);
    expect(counts.pre.size).toBe(0);
    await w.batches.run(asInputs(store.take('shared').slice(0, 2)), false);
    // Run, not yet committed: every input still in the store, no output in it.
    expect(store.take('shared')).toHaveLength(3);
    expect(store.take('u0')).toHaveLength(0);
    await w.batches.settle();
    expect(store.take('shared')).toHaveLength(1);
    await w.batches.run(asInputs(store.take('shared')), false);
    await w.batches.settle();
    expect(store.take('shared')).toHaveLength(0);
    expect(counts.pre).toEqual(new Map([['Pair1/0', 1]]));
    // Group-by [0] over 2 units: key k always goes to the same unit, every value once.
    const all = [...store.values('u0'), ...store.values('u1')] as [number, number][];
    expect(all.map(([, v]) => v).sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i * 2));
    for (const key of [0, 1, 2]) {
      const inU0 = (store.values('u0') as [number, number][]).some(([k]) => k === key);
      const inU1 = (store.values('u1') as [number, number][]).some(([k]) => k === key);
      expect(inU0 !== inU1).toBe(true);
    }
    expect(w.batches.figures).toEqual({ items: 12, entries: 3, redelivered: 0, duplicates: 0 });
  });

  it("leaves nothing of a fenced worker's batch: its inputs stay, another worker runs them once", async () => {
    const store = new MemoryStore();
    store.add('shared', 1, 'input', [1, 2, 3]);
    const frozen = worker(store, 0);
    frozen.transport.fenced = true;
    await frozen.batches.run(asInputs(store.take('shared')), false);
    await expect(frozen.batches.settle()).rejects.toThrow('fenced');
    expect(store.take('shared')).toHaveLength(1);
    expect([...store.values('u0'), ...store.values('u1')]).toEqual([]);
    const other = worker(store, 1);
    await other.batches.run(asInputs(store.take('shared')), true);
    await other.batches.settle();
    expect(([...store.values('u0'), ...store.values('u1')] as [number, number][]).map(([, v]) => v).sort()).toEqual([2, 4, 6]);
    expect(other.batches.figures).toEqual({ items: 3, entries: 1, redelivered: 3, duplicates: 0 });
  });

  it('counts the items of an entry someone else acknowledged first as duplicates', async () => {
    const store = new MemoryStore();
    store.add('shared', 1, 'input', [1, 2]);
    store.add('shared', 1, 'input', [3, 4, 5]);
    const entries = asInputs(store.take('shared'));
    const a = worker(store, 0);
    const b = worker(store, 1);
    await a.batches.run(entries.slice(1), false);
    await a.batches.settle();
    await b.batches.run(entries, true);
    await b.batches.settle();
    expect(b.batches.figures.duplicates).toBe(3);
  });

  it('runs postprocess when the driver closes a PE, once per instance, and commits its writes with the reply', async () => {
    counts.pre.clear();
    counts.post.clear();
    const store = new MemoryStore();
    const w = worker(store, 0);
    await w.instances.hold(0, 2);
    await w.instances.hold(1, 2);
    store.add('u0', 2, 'input', [[0, 10], [0, 5]]);
    store.add('u1', 2, 'input', [[1, 7]]);
    await w.batches.run(asInputs([...store.take('u0'), ...store.take('u1')]), false);
    await w.batches.close(2, [['c', 'w0|2']]);
    await w.batches.close(2, [['c', 'w0|2']]);
    expect(counts.pre).toEqual(new Map([['SumByKey2/0', 1], ['SumByKey2/1', 1]]));
    expect(counts.post).toEqual(new Map([['SumByKey2/0', 1], ['SumByKey2/1', 1]]));
    expect(w.collector.outputs).toEqual({ SumByKey2: { output: [[0, 15], [1, 7]] } });
    expect(store.reports).toEqual([['c', 'w0|2'], ['c', 'w0|2']]);
  });

  it("leaves a lost unit's entries to its new holder and keeps the lost instance's figures", async () => {
    counts.pre.clear();
    const store = new MemoryStore();
    const w = worker(store, 0);
    await w.instances.hold(0, 2);
    store.add('u0', 2, 'input', [[0, 1]]);
    await w.batches.run(asInputs(store.take('u0')), false);
    await w.batches.settle();
    w.instances.lose(0);
    expect([...w.instances.held()]).toEqual([]);
    store.add('u0', 2, 'input', [[0, 2]]);
    await w.batches.run(asInputs(store.take('u0')), false);
    await w.batches.settle();
    expect(store.take('u0')).toHaveLength(1);
    expect(w.instances.stats().SumByKey2).toMatchObject({ instances: 1, calls: 1 });
    const next = worker(store, 1);
    await next.instances.hold(0, 2);
    await next.batches.run(asInputs(store.take('u0')), true);
    await next.batches.settle();
    expect(store.take('u0')).toHaveLength(0);
    expect(counts.pre.get('SumByKey2/0')).toBe(2);
  });

  it('loops read, run, commit until told to stop, closing PEs on command, not on an end of stream', async () => {
    counts.post.clear();
    const store = new MemoryStore();
    store.add('shared', 1, 'input', [1, 2, 3]);
    const w = worker(store, 0);
    await w.instances.hold(0, 2);
    await w.instances.hold(1, 2);
    const script: Array<'shared' | 'units' | 'close' | 'stop'> = ['shared', 'units', 'units', 'close', 'stop'];
    let stop = false;
    const source: BatchSource<Ack> = {
      get stopping() {
        return stop;
      },
      async read() {
        const step = script.shift();
        if (step === 'stop') stop = true;
        if (step === 'close') return { entries: [], closes: [2] };
        const entries = step === 'shared' ? store.take('shared') : step === 'units' ? [...store.take('u0'), ...store.take('u1')] : [];
        return { entries: asInputs(entries), closes: [] };
      },
      closed: (pe) => [['c', `w0|${pe}`]],
    };
    await runCommittedLoop(source, w.batches);
    expect(script).toEqual([]);
    expect(counts.post.size).toBe(2);
    expect(w.collector.outputs.SumByKey2.output).toEqual(expect.arrayContaining([[1, 2], [2, 4], [0, 6]]));
    expect(w.collector.outputs.SumByKey2.output).toHaveLength(3);
    expect([...store.streams.values()].flat()).toEqual([]);
    expect(store.reports).toEqual([['c', 'w0|2']]);
  });

  it("routes a write along every edge of its port: to every instance for 'all', to the shared destination, and by shuffle from the writer's own instance", () => {
    const producer = new Producer();
    const everyone = new Pair();
    everyone.setGrouping('input', 'all');
    const shared = new Pair();
    const shuffled = new Pair();
    const g = new WorkflowGraph().connect(producer, 'output', everyone, 'input').connect(producer, 'output', shared, 'input').connect(producer, 'output', shuffled, 'input');
    const got: string[] = [];
    const routes = writeRoutes<string>(g.peEdges(), producer, 1, (edge) => (edge.to === shared ? { shared: 'S' } : { instances: edge.to === everyone ? ['A0', 'A1', 'A2'] : ['H0', 'H1', 'H2'] }));
    for (const value of [10, 11, 12]) routeWrite(routes.get('output')!, value, (dest, v, origin) => got.push(`${dest}:${v as number}:${origin.peId}.${origin.port}`));
    expect(got).toEqual([
      'A0:10:Producer0.output', 'A1:10:Producer0.output', 'A2:10:Producer0.output', 'S:10:Producer0.output', 'H1:10:Producer0.output',
      'A0:11:Producer0.output', 'A1:11:Producer0.output', 'A2:11:Producer0.output', 'S:11:Producer0.output', 'H2:11:Producer0.output',
      'A0:12:Producer0.output', 'A1:12:Producer0.output', 'A2:12:Producer0.output', 'S:12:Producer0.output', 'H0:12:Producer0.output',
    ]);
  });

  it('gives each instance in a process a PE object of its own, also from a module that exports one graph object', async () => {
    for (const fixture of ['graph-object.ts', 'factory.ts']) {
      const workflow = await loadWorkflow(fileURLToPath(new URL(`./fixtures/${fixture}`, import.meta.url)));
      const pes = workflow.graph.flatten().pes();
      const fresh = ownPEs(pes, requireWorkflowSource(workflow, 'test'));
      const made = [await fresh(1), await fresh(1), await fresh(1)];
      expect(new Set(made).size).toBe(3);
      expect(made.map((pe) => pe.id)).toEqual([pes[1].id, pes[1].id, pes[1].id]);
      expect(made.every((pe) => pe.constructor === pes[1].constructor)).toBe(true);
    }
  });
});
