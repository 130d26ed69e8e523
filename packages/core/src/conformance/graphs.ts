/**
 * The graphs of the conformance kit. Each export is a factory, so that workers in other
 * threads, processes or hosts rebuild the same graph by importing this module.
 */
import { existsSync } from 'node:fs';
import { WorkflowGraph, createIterativeChain, GenericPE, ConsumerPE, IterativePE, ProducerPE, type PEInputs, type PEOutputs } from '../index.js';

/** Writes 1, 2, 3, … (one per call) on every output it has. */
export class CountingProducer extends GenericPE {
  private counter = 0;
  constructor(outputs = 1) {
    super('CountingProducer');
    if (outputs === 1) this.addOutput('output');
    else for (let i = 0; i < outputs; i++) this.addOutput(`output${i}`);
  }
  process(): PEOutputs {
    this.counter += 1;
    const out: Record<string, number> = {};
    for (const port of this.outputs.keys()) out[port] = this.counter;
    return out;
  }
}

export class Identity extends IterativePE {
  constructor() {
    super('Identity');
  }
  _process(data: unknown): unknown {
    return data;
  }
}

/** Concatenates whatever arrives on its two inputs (dispel4py's TestTwoInOneOut). */
export class Concat extends GenericPE {
  constructor() {
    super('Concat');
    this.addInput('input0').addInput('input1').addOutput('output');
  }
  process(inputs: PEInputs): PEOutputs {
    let text = '';
    for (const port of Object.keys(inputs)) text += String(inputs[port]);
    return text ? { output: text } : undefined;
  }
}

const WORDS = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta'];

/** Writes a deterministic word per call: WORDS[(n*n + 3n) mod 7]. */
export class WordProducer extends ProducerPE {
  private n = 0;
  constructor() {
    super('WordProducer');
  }
  _process(): unknown {
    const n = this.n++;
    return [WORDS[(n * n + 3 * n) % WORDS.length], 1];
  }
}

/** Running count per word: requires every occurrence of a word at one instance. */
export class WordCounter extends GenericPE {
  private readonly counts = new Map<string, number>();
  constructor() {
    super('WordCounter');
    this.addInput('input', { grouping: [0] }).addOutput('output');
  }
  process(inputs: PEInputs): PEOutputs {
    const [word, n] = inputs.input as [string, number];
    const total = (this.counts.get(word) ?? 0) + n;
    this.counts.set(word, total);
    return { output: [word, total] };
  }
}

/** Sums everything it gets and writes the sum in postprocess (all to instance 0). */
export class GlobalSum extends GenericPE {
  private sum = 0;
  constructor() {
    super('GlobalSum');
    this.addInput('input', { grouping: 'global' }).addOutput('output');
  }
  process(inputs: PEInputs): PEOutputs {
    this.sum += inputs.input as number;
  }
  override postprocess(): void {
    if (this.instance === 0) this.write('output', this.sum);
    else if (this.sum !== 0) this.write('output', `instance ${this.instance} got ${this.sum}`);
  }
}

/** Counts what it sees; with grouping 'all' every instance sees every item. */
export class SeeAll extends GenericPE {
  private seen = 0;
  constructor() {
    super('SeeAll');
    this.addInput('input', { grouping: 'all' }).addOutput('output');
    this.numprocesses = 3;
  }
  process(): PEOutputs {
    this.seen += 1;
  }
  override postprocess(): void {
    this.write('output', this.seen);
  }
}

export class AsyncDouble extends IterativePE {
  constructor() {
    super('AsyncDouble');
  }
  async _process(data: number): Promise<number> {
    await new Promise((resolve) => setImmediate(resolve));
    return data * 2;
  }
}

/** Splits even and odd numbers; only 'even' is connected. */
export class EvenOdd extends GenericPE {
  constructor() {
    super('EvenOdd');
    this.addInput('input').addOutput('even').addOutput('odd');
  }
  process(inputs: PEInputs): PEOutputs {
    const n = inputs.input as number;
    return n % 2 === 0 ? { even: n } : { odd: n };
  }
}

/** A root that makes `count` items in its single call (no input spec needed). */
export class Burst extends GenericPE {
  constructor(private readonly count = 25) {
    super('Burst');
    this.addOutput('output');
  }
  process(): PEOutputs {
    for (let i = 0; i < this.count; i++) this.write('output', i);
  }
}

/** Echoes a field of its raw inputs object (for list inputs given with -d). */
export class ReadField extends ProducerPE {
  constructor() {
    super('read');
  }
  _process(inputs: PEInputs): unknown {
    return `${inputs.input}!`;
  }
}

/**
 * Counts its lifecycle: preprocess() and process() calls, and reports them from postprocess()
 * as `{instance, preprocessed, calls}` on an unconnected port. The conformance kit checks
 * that every instance that ran was preprocessed once and postprocessed once, and that the
 * instances together saw every item once.
 */
export class LifecycleCounter extends GenericPE {
  private preprocessed = 0;
  private calls = 0;
  constructor() {
    super('LifecycleCounter');
    this.addInput('input').addOutput('output').addOutput('lifecycle');
  }
  override preprocess(): void {
    this.preprocessed += 1;
  }
  process(inputs: PEInputs): PEOutputs {
    this.calls += 1;
    return { output: inputs.input };
  }
  override postprocess(): void {
    this.write('lifecycle', { instance: this.instance, preprocessed: this.preprocessed, calls: this.calls });
  }
}

/** Throws on the item equal to `bad` (7 by default), passes the others on. */
export class FailsOn extends IterativePE {
  constructor(private readonly bad = 7) {
    super('FailsOn');
  }
  _process(data: number): number {
    if (data === this.bad) throw new RangeError(`${data} is not allowed here`);
    return data;
  }
}

/** Passes items on after a timer (a slow PE that yields: a run of it can be aborted midway). */
export class Sleepy extends IterativePE {
  constructor(private readonly ms = 5) {
    super('Sleepy');
  }
  async _process(data: number): Promise<number> {
    await new Promise((resolve) => setTimeout(resolve, this.ms));
    return data;
  }
}

/** Passes items on, but holds item `at` until the file `gate` exists (a test reads progress mid-run, then opens it). */
export class Gate extends IterativePE {
  constructor(
    private readonly at = 0,
    private readonly gate = '',
  ) {
    super('Gate');
  }
  async _process(data: number): Promise<number> {
    if (data === this.at) while (!existsSync(this.gate)) await new Promise((resolve) => setTimeout(resolve, 10));
    return data;
  }
}

export class Collect extends ConsumerPE {
  constructor() {
    super('Collect');
  }
  _process(): void {}
}

function chain(...pes: GenericPE[]): WorkflowGraph {
  const graph = new WorkflowGraph();
  for (let i = 1; i < pes.length; i++) graph.connect(pes[i - 1], 'output', pes[i], 'input');
  return graph;
}

export function pipeline(): WorkflowGraph {
  return chain(new CountingProducer(), new Identity(), new Identity(), new Identity(), new Identity(), new Identity());
}

export function splitMerge(): WorkflowGraph {
  const graph = new WorkflowGraph();
  const prod = new CountingProducer(2);
  const a = new Identity();
  const b = new Identity();
  const last = new Concat();
  graph.connect(prod, 'output0', a, 'input');
  graph.connect(prod, 'output1', b, 'input');
  graph.connect(a, 'output', last, 'input0');
  graph.connect(b, 'output', last, 'input1');
  return graph;
}

export function teeCopy(): WorkflowGraph {
  const graph = new WorkflowGraph();
  const prod = new CountingProducer();
  graph.connect(prod, 'output', new Identity(), 'input');
  graph.connect(prod, 'output', new Identity(), 'input');
  return graph;
}

export function doubleEdge(): WorkflowGraph {
  const graph = new WorkflowGraph();
  const prod = new CountingProducer();
  const sink = new Identity();
  graph.connect(prod, 'output', sink, 'input');
  graph.connect(prod, 'output', sink, 'input');
  return graph;
}

export function chainComposite(): WorkflowGraph {
  const add = (a: number, p: { b: number }) => a + p.b;
  const mult = (a: number, p: { b: number }) => a * p.b;
  const isOdd = (a: number) => a % 2 === 1;
  const graph = new WorkflowGraph();
  graph.connect(new CountingProducer(), 'output', createIterativeChain([[add, { b: 1 }], [mult, { b: 3 }], isOdd]), 'input');
  return graph;
}

export function unconnectedPort(): WorkflowGraph {
  const graph = new WorkflowGraph();
  const split = new EvenOdd();
  graph.connect(new CountingProducer(), 'output', split, 'input');
  graph.connect(split, 'even', new Identity(), 'input');
  return graph;
}

export function asyncPipeline(): WorkflowGraph {
  return chain(new CountingProducer(), new AsyncDouble(), new Identity());
}

export function burstRoot(): WorkflowGraph {
  return chain(new Burst(), new Identity(), new Identity());
}

export function listInputs(): WorkflowGraph {
  return chain(new ReadField(), new Identity());
}

export function wordCount(): WorkflowGraph {
  return chain(new WordProducer(), new Identity(), new WordCounter());
}

export function globalSum(): WorkflowGraph {
  return chain(new CountingProducer(), new Identity(), new GlobalSum());
}

export function broadcast(): WorkflowGraph {
  return chain(new CountingProducer(), new Identity(), new SeeAll());
}

/** Two instances that count their lifecycle, between a producer and a pass-through. */
export function lifecycle(): WorkflowGraph {
  const counter = new LifecycleCounter();
  counter.numprocesses = 2;
  return chain(new CountingProducer(), counter, new Identity());
}

/** A PE that throws on item 7. */
export function failing(): WorkflowGraph {
  return chain(new CountingProducer(), new Identity(), new FailsOn(7), new Identity());
}

/** A slow pipeline that would take minutes with its usual input (the kit aborts it). */
export function slow(): WorkflowGraph {
  return chain(new CountingProducer(), new Sleepy(5), new Identity());
}

/** CountingProducer → Identity → Gate(at, gate): a run that cannot end before the test opens the gate. */
export function gated({ at, gate }: { at: number; gate: string }): WorkflowGraph {
  return chain(new CountingProducer(), new Identity(), new Gate(at, gate));
}
