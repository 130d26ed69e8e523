/**
 * The standard bench workloads. Each graph factory is an export of this module, so the
 * workers of parallel mappings rebuild the same graph by importing it (code never crosses
 * a boundary); `WORKLOADS` says how to feed each one and how many results it must give.
 */
import { IterativePE, ProducerPE, WorkflowGraph, type InputSpec } from '@d4/core';

/** JSON arguments of the graph factories (every field optional). */
export interface WorkloadArgs {
  /** Samples per signal (a power of two) for fft_peaks. */
  samples?: number;
  /** Words per line for word_count. */
  wordsPerLine?: number;
  /** Instances of fft_peaks' SpectrumPeak in fixed mappings (its numprocesses). */
  analysers?: number;
}

export interface Workload {
  readonly name: string;
  readonly description: string;
  /** The export of this module that builds the graph. */
  readonly factory: string;
  /** Source items of a run unless --items says otherwise. */
  readonly defaultItems: number;
  /** Whether the graph has stateful PEs (groupings), which dyn_* mappings refuse. */
  readonly stateful: boolean;
  /** The input spec for `items` source items. */
  inputs(items: number): InputSpec;
  /** Values the run must write to unconnected outputs, over all of them. */
  expectedOutputs(items: number): number;
}

// ---------------------------------------------------------------- pipeline_test, split_merge

// dispel4py's own graphs and test PEs, as ported in examples/graph_testing: the bench times
// exactly the workflows users run (and the PE ids dispel4py prints, e.g. TestOneInOneOut5).
export { pipelineTest } from '../../examples/graph_testing/pipeline_test.js';
export { splitMerge } from '../../examples/graph_testing/split_merge.js';

import { WordCounter } from '../../examples/graph_testing/testing_pes.js';

// ---------------------------------------------------------------- word_count

/** A fixed vocabulary of 2 000 pronounceable words (syllable pairs and triples). */
const SYLLABLES = ['ka', 'lo', 'mi', 'ne', 'ru', 'sa', 'ti', 'vo', 'ze', 'pa', 'do', 'fi', 'gu', 'he', 'ja', 'bo'];
const VOCABULARY: string[] = (() => {
  const words: string[] = [];
  const s = SYLLABLES.length;
  for (let i = 0; words.length < 2000; i++) {
    const a = SYLLABLES[i % s];
    const b = SYLLABLES[Math.floor(i / s) % s];
    const c = i >= s * s ? SYLLABLES[Math.floor(i / (s * s)) % s] : '';
    words.push(a + b + c);
  }
  return words;
})();

/**
 * Writes one line of words per call. Word k of line n is picked by an integer hash of
 * (n, k), skewed towards the start of the vocabulary the way natural text is, so every
 * run (and every mapping) sees the same text.
 */
export class LineProducer extends ProducerPE {
  private line = 0;
  constructor(private readonly wordsPerLine: number) {
    super('LineProducer');
  }
  _process(): unknown {
    const n = this.line++;
    const words = new Array<string>(this.wordsPerLine);
    for (let k = 0; k < this.wordsPerLine; k++) {
      let h = Math.imul(n, 0x9e3779b1) ^ Math.imul(k + 1, 0x85ebca6b);
      h ^= h >>> 15;
      h = Math.imul(h, 0xc2b2ae35);
      h ^= h >>> 13;
      const u = (h >>> 0) / 0x100000000;
      words[k] = VOCABULARY[Math.floor(u * u * VOCABULARY.length)];
    }
    return words.join(' ');
  }
}

/** Splits a line into [word, 1] pairs, one write per word. */
export class SplitWords extends IterativePE {
  constructor() {
    super('SplitWords');
  }
  _process(line: string): unknown {
    for (const word of line.split(' ')) this.write('output', [word, 1]);
    return undefined;
  }
}

export function wordCount(args: WorkloadArgs = {}): WorkflowGraph {
  const graph = new WorkflowGraph();
  const producer = new LineProducer(args.wordsPerLine ?? WORDS_PER_LINE);
  const split = new SplitWords();
  graph.connect(producer, 'output', split, 'input');
  graph.connect(split, 'output', new WordCounter(), 'input');
  return graph;
}

const WORDS_PER_LINE = 10;

// ---------------------------------------------------------------- fft_peaks (CPU-bound)

/** The frequency bin of item n's dominant tone (an integer bin, so the peak is exact). */
export function dominantBin(n: number, samples: number): number {
  return 1 + ((n * 37) % (samples / 2 - 2));
}

/** Writes the item number; the signal itself is synthesised where it is analysed, so messages stay small. */
export class SignalIds extends ProducerPE {
  private n = 0;
  constructor() {
    super('SignalIds');
  }
  _process(): unknown {
    return this.n++;
  }
}

/**
 * Synthesises item n's signal (a dominant tone, a weaker second tone and deterministic
 * noise), runs a radix-2 FFT over it and writes [n, bin of the largest magnitude].
 */
export class SpectrumPeak extends IterativePE {
  private readonly re: Float64Array;
  private readonly im: Float64Array;
  private readonly cos: Float64Array;
  private readonly sin: Float64Array;
  private readonly bitReversed: Uint32Array;

  constructor(private readonly samples: number) {
    super('SpectrumPeak');
    if (!Number.isInteger(Math.log2(samples)) || samples < 16) throw new RangeError(`samples must be a power of two of at least 16, got ${samples}`);
    this.re = new Float64Array(samples);
    this.im = new Float64Array(samples);
    this.cos = new Float64Array(samples / 2);
    this.sin = new Float64Array(samples / 2);
    for (let k = 0; k < samples / 2; k++) {
      this.cos[k] = Math.cos((2 * Math.PI * k) / samples);
      this.sin[k] = -Math.sin((2 * Math.PI * k) / samples);
    }
    const bits = Math.log2(samples);
    this.bitReversed = new Uint32Array(samples);
    for (let i = 0; i < samples; i++) {
      let r = 0;
      for (let b = 0; b < bits; b++) r |= ((i >>> b) & 1) << (bits - 1 - b);
      this.bitReversed[i] = r;
    }
  }

  _process(n: number): unknown {
    const N = this.samples;
    const f1 = dominantBin(n, N);
    const f2 = 1 + ((f1 + N / 4) % (N / 2 - 2));
    const phase = (n % 17) / 17;
    let seed = (n * 2654435761) >>> 0 || 1;
    const re = this.re;
    const im = this.im;
    const rev = this.bitReversed;
    for (let t = 0; t < N; t++) {
      // xorshift32 noise in [-0.2, 0.2)
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      const noise = ((seed >>> 0) / 0x100000000 - 0.5) * 0.4;
      const x = Math.sin(2 * Math.PI * (f1 * t / N + phase)) + 0.5 * Math.sin((2 * Math.PI * f2 * t) / N) + noise;
      const j = rev[t];
      re[j] = x;
      im[j] = 0;
    }
    fftInPlace(re, im, this.cos, this.sin);
    let best = 1;
    let bestPower = -1;
    for (let k = 1; k < N / 2; k++) {
      const p = re[k] * re[k] + im[k] * im[k];
      if (p > bestPower) {
        bestPower = p;
        best = k;
      }
    }
    return [n, best];
  }
}

/**
 * Iterative radix-2 decimation-in-time FFT over bit-reversed input. `cos`/`sin` hold the
 * twiddle factors e^{-2πik/N} for k < N/2.
 */
export function fftInPlace(re: Float64Array, im: Float64Array, cos: Float64Array, sin: Float64Array): void {
  const N = re.length;
  for (let size = 2; size <= N; size <<= 1) {
    const half = size >>> 1;
    const step = N / size;
    for (let start = 0; start < N; start += size) {
      for (let k = 0, w = 0; k < half; k++, w += step) {
        const a = start + k;
        const b = a + half;
        const tr = re[b] * cos[w] - im[b] * sin[w];
        const ti = re[b] * sin[w] + im[b] * cos[w];
        re[b] = re[a] - tr;
        im[b] = im[a] - ti;
        re[a] += tr;
        im[a] += ti;
      }
    }
  }
}

/** Checks each peak against the tone that was put in: a wrong spectrum fails the run. */
export class CheckPeak extends IterativePE {
  constructor(private readonly samples: number) {
    super('CheckPeak');
  }
  _process(value: [number, number]): unknown {
    const [n, bin] = value;
    const expected = dominantBin(n, this.samples);
    if (bin !== expected) throw new Error(`item ${n}: the spectrum peaks at bin ${bin}, but the signal's dominant tone is at bin ${expected}`);
    return bin;
  }
}

export function fftPeaks(args: WorkloadArgs = {}): WorkflowGraph {
  const samples = args.samples ?? 1024;
  const graph = new WorkflowGraph();
  const analyse = new SpectrumPeak(samples);
  if (args.analysers !== undefined) analyse.numprocesses = args.analysers;
  graph.connect(new SignalIds(), 'output', analyse, 'input');
  graph.connect(analyse, 'output', new CheckPeak(samples), 'input');
  return graph;
}

// ---------------------------------------------------------------- the table

const everyRoot = (items: number): InputSpec => ({ '*': items });

// ---------------------------------------------------------------- kilobytes (payload-bound)

/** Writes a 1 KB string per call (its number, padded): the messages of zmq_multi's speed goal. */
export class KilobyteProducer extends ProducerPE {
  private n = 0;
  constructor() {
    super('KilobyteProducer');
  }
  _process(): unknown {
    return String(this.n++).padEnd(1024, '.');
  }
}

/** Passes each value on unchanged. */
export class PassOn extends IterativePE {
  constructor() {
    super('PassOn');
  }
  _process(value: unknown): unknown {
    return value;
  }
}

/** 1 KB values through a two-stage pipeline: producer, then two pass-throughs. */
export function kilobytes(): WorkflowGraph {
  const graph = new WorkflowGraph();
  const first = new PassOn();
  graph.connect(new KilobyteProducer(), 'output', first, 'input');
  graph.connect(first, 'output', new PassOn(), 'input');
  return graph;
}

export const WORKLOADS: Readonly<Record<string, Workload>> = {
  pipeline_test: {
    name: 'pipeline_test',
    description: 'TestProducer and five TestOneInOneOut pass-throughs in a line (six PEs); one result per item',
    factory: 'pipelineTest',
    defaultItems: 100_000,
    stateful: false,
    inputs: everyRoot,
    expectedOutputs: (items) => items,
  },
  split_merge: {
    name: 'split_merge',
    description: 'TestProducer with two outputs, a pass-through on each branch, TestTwoInOneOut merging them; two results per item',
    factory: 'splitMerge',
    defaultItems: 4_000_000,
    stateful: false,
    inputs: everyRoot,
    expectedOutputs: (items) => 2 * items,
  },
  word_count: {
    name: 'word_count',
    description: `a line of ${WORDS_PER_LINE} deterministic words per item, split into [word, 1], a running count per word grouped by [0]; one result per word`,
    factory: 'wordCount',
    defaultItems: 500_000,
    stateful: true,
    inputs: everyRoot,
    expectedOutputs: (items) => items * WORDS_PER_LINE,
  },
  kilobytes: {
    name: 'kilobytes',
    description: 'a 1 KB string per item through a two-stage pipeline (two pass-throughs): what moving payloads costs; one result per item',
    factory: 'kilobytes',
    defaultItems: 200_000,
    stateful: false,
    inputs: everyRoot,
    expectedOutputs: (items) => items,
  },
  fft_peaks: {
    name: 'fft_peaks',
    description: 'CPU-bound: per item, synthesise a 1024-sample signal, radix-2 FFT, peak bin checked against the tone put in; one result per item',
    factory: 'fftPeaks',
    defaultItems: 25_000,
    stateful: false,
    inputs: everyRoot,
    expectedOutputs: (items) => items,
  },
};
