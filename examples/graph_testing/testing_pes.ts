/**
 * The PEs the graph_testing workflows are built from (dispel4py's testing_PEs). Their
 * behaviour follows dispel4py; state is set up in preprocess() rather than in the
 * constructor, so a graph object can be run more than once and every run starts afresh.
 */
import { ConsumerPE, GenericPE, IterativePE, ProducerPE, type PEInputs, type PEOutputs } from '@d4/core';
import { DEFAULT_SEED, instanceRandom, pick } from './random.js';

/**
 * Counts 1, 2, 3, … one number per call, written on every output it has: `output` when
 * it has one, `output0` … `output{N-1}` when it has N.
 */
export class TestProducer extends GenericPE {
  private counter = 0;

  constructor(numOutputs = 1) {
    super('TestProducer');
    if (numOutputs === 1) this.addOutput('output');
    else for (let i = 0; i < numOutputs; i++) this.addOutput(`output${i}`);
  }

  override preprocess(): void {
    this.counter = 0;
  }

  process(): PEOutputs {
    this.counter += 1;
    const result: Record<string, number> = {};
    for (const port of this.outputs.keys()) result[port] = this.counter;
    return result;
  }
}

/**
 * Writes `numIterations` one-element lists per call: on call k (from 0) the i-th item is
 * `[k * i + i]`, so a single call with numIterations = n writes [0], [1], … [n-1].
 */
export class NumberProducer extends GenericPE {
  private counter = 0;

  constructor(readonly numIterations = 1) {
    super('NumberProducer');
    this.addOutput('output');
  }

  override preprocess(): void {
    this.counter = 0;
  }

  process(): PEOutputs {
    for (let i = 0; i < this.numIterations; i++) this.write('output', [this.counter * i + i]);
    this.counter += 1;
  }
}

/** Writes the integers start, start+1, … limit-1 on every call. */
export class IntegerProducer extends ProducerPE {
  constructor(
    readonly start: number,
    readonly limit: number,
  ) {
    super('IntegerProducer');
  }

  _process(): undefined {
    for (let i = this.start; i < this.limit; i++) this.write('output', i);
    return undefined;
  }
}

/** Writes `numOutput` numbers 0 … numOutput-1 on every call. */
export class TestMultiProducer extends GenericPE {
  constructor(readonly numOutput = 10) {
    super('TestMultiProducer');
    this.addOutput('output');
  }

  process(): PEOutputs {
    for (let i = 0; i < this.numOutput; i++) this.write('output', i);
  }
}

/** Passes its input on, by returning it. */
export class TestOneInOneOut extends GenericPE {
  constructor() {
    super('TestOneInOneOut');
    this.addInput('input').addOutput('output');
  }

  process(inputs: PEInputs): PEOutputs {
    return { output: inputs.input };
  }
}

/** Passes its input on, by calling write() (a PE may write any number of times per call). */
export class TestOneInOneOutWriter extends GenericPE {
  constructor() {
    super('TestOneInOneOutWriter');
    this.addInput('input').addOutput('output');
  }

  process(inputs: PEInputs): PEOutputs {
    this.write('output', inputs.input);
  }
}

/** Passes its input on, written as an IterativePE. */
export class TestIterative extends IterativePE {
  constructor() {
    super('TestIterative');
  }

  _process(data: unknown): unknown {
    return data;
  }
}

/** Passes its input on after waiting `delayMs` (without blocking the thread). */
export class TestDelayOneInOneOut extends GenericPE {
  constructor(readonly delayMs = 1000) {
    super('TestDelayOneInOneOut');
    this.addInput('input').addOutput('output');
  }

  async process(inputs: PEInputs): Promise<PEOutputs> {
    await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    return { output: inputs.input };
  }
}

/**
 * Merges two inputs into one output: each call gets one of them, and writes the text of
 * what it got (a number 1 arriving on input0 becomes '1').
 */
export class TestTwoInOneOut extends GenericPE {
  constructor() {
    super('TestTwoInOneOut');
    this.addInput('input0').addInput('input1').addOutput('output');
  }

  process(inputs: PEInputs): PEOutputs {
    let result = '';
    for (const port of this.inputs.keys()) if (port in inputs) result += String(inputs[port]);
    return result ? { output: result } : undefined;
  }
}

/** Logs every item it receives. */
export class PrintDataConsumer extends ConsumerPE {
  constructor() {
    super('PrintDataConsumer');
  }

  _process(data: unknown): void {
    this.log(typeof data === 'string' ? data : JSON.stringify(data));
  }
}

/** Passes on about half of its inputs, chosen at random from its seed. */
export class RandomFilter extends GenericPE {
  private random: () => number = () => 0;

  constructor(readonly seed = DEFAULT_SEED) {
    super('RandomFilter');
    this.addInput('input').addOutput('output');
  }

  override preprocess(): void {
    this.random = instanceRandom(this.seed, this.id, this.instance);
  }

  process(inputs: PEInputs): PEOutputs {
    return this.random() < 0.5 ? { output: inputs.input } : undefined;
  }
}

/** dispel4py's word list for RandomWordProducer. */
export const WORDS: readonly string[] = ['dispel4py', 'computing', 'mpi', 'processing', 'simple', 'analysis', 'data'];

/** Writes one word per call, as a one-element list `[word]`, chosen at random from its seed. */
export class RandomWordProducer extends GenericPE {
  private random: () => number = () => 0;

  constructor(readonly seed = DEFAULT_SEED) {
    super('RandomWordProducer');
    this.addOutput('output');
  }

  override preprocess(): void {
    this.random = instanceRandom(this.seed, this.id, this.instance);
  }

  process(): PEOutputs {
    return { output: [pick(this.random, WORDS)] };
  }
}

/**
 * Counts how often it has seen each word (element 0 of its input) and writes
 * `[word, countSoFar]`. Its input is grouped by element 0, so every occurrence of a word
 * reaches the same instance and the counts are right however many instances run.
 */
export class WordCounter extends GenericPE {
  private counts = new Map<string, number>();

  constructor() {
    super('WordCounter');
    this.addInput('input', { grouping: [0] }).addOutput('output');
  }

  override preprocess(): void {
    this.counts = new Map();
  }

  process(inputs: PEInputs): PEOutputs {
    const word = (inputs.input as unknown[])[0] as string;
    const count = (this.counts.get(word) ?? 0) + 1;
    this.counts.set(word, count);
    return { output: [word, count] };
  }
}

/** Logs the provenance metadata it receives (the first 300 characters). */
export class ProvenanceLogger extends GenericPE {
  constructor() {
    super('ProvenanceLogger');
    this.addInput('metadata');
  }

  process(inputs: PEInputs): PEOutputs {
    const text = typeof inputs.metadata === 'string' ? inputs.metadata : JSON.stringify(inputs.metadata);
    this.log(`Logging metadata: ${String(text).slice(0, 300)}`);
  }
}
