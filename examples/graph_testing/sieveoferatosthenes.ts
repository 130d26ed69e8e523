/**
 * sieveoferatosthenes: the sieve as a pipeline. The producer writes 2 … limit-1; each
 * divider PE keeps the first number it receives as its prime (written to the collector)
 * and passes on only the numbers that prime does not divide. With 198 dividers, every
 * prime below 1000 (there are 168) finds its own divider.
 *
 *   npx d4 run simple examples/graph_testing/sieveoferatosthenes.ts
 *   → {PrimeCollector2: {output: [2, 3, 5, 7, … 997]}}
 *   npx d4 run simple examples/graph_testing/sieveoferatosthenes.ts -a sieve --args '{"limit": 100, "dividers": 30}'
 */
import { GenericPE, IterativePE, ProducerPE, WorkflowGraph, type PEInputs, type PEOutputs } from '@d4/core';
import { intArg } from './args.js';

/** Writes 2, 3, … limit-1 in one call. */
export class SieveNumbers extends ProducerPE {
  constructor(readonly limit: number) {
    super('NumberProducer');
  }

  _process(): undefined {
    for (let n = 2; n < this.limit; n++) this.write('output', n);
    return undefined;
  }
}

/**
 * Keeps its first number as its prime and drops its multiples. Its state covers every
 * number it sees, so its input is grouped 'global': on a parallel mapping all numbers go
 * to instance 0, and the sieve stays right however many instances the mapping gives it.
 */
export class Divider extends GenericPE {
  private divisor: number | undefined;

  constructor() {
    super('MyFirstPE');
    this.addInput('input', { grouping: 'global' }).addOutput('prime').addOutput('output');
  }

  override preprocess(): void {
    this.divisor = undefined;
  }

  process(inputs: PEInputs): PEOutputs {
    const n = inputs.input as number;
    if (this.divisor === undefined) {
      this.divisor = n;
      return { prime: n };
    }
    return n % this.divisor !== 0 ? { output: n } : undefined;
  }
}

export class PrimeCollector extends IterativePE {
  constructor() {
    super('PrimeCollector');
  }

  _process(data: number): number {
    return data;
  }
}

/** The sieve over 2 … limit-1 with `dividers` divider PEs (default 1000 and 198, as dispel4py). */
export function sieve(args?: { limit?: number; dividers?: number }): WorkflowGraph {
  const limit = intArg(args, 'limit', 1000, 2);
  const dividers = intArg(args, 'dividers', 198, 1);
  const graph = new WorkflowGraph();
  const primes = new PrimeCollector();
  let previous: GenericPE = new SieveNumbers(limit);
  for (let i = 0; i < dividers; i++) {
    const divider = new Divider();
    graph.connect(previous, 'output', divider, 'input');
    graph.connect(divider, 'prime', primes, 'input');
    previous = divider;
  }
  return graph;
}

export default sieve();
