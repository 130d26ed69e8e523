// The first workflow of the README: words counted with a group-by grouping.
// Run: npx -y pnpm@10 d4 run simple examples/wordcount.ts
import { GenericPE, IterativePE, ProducerPE, WorkflowGraph, type PEInputs } from '@d4/core';

class Lines extends ProducerPE {
  _process(inputs: PEInputs) {
    return String(inputs.input ?? 'the quick brown fox jumps over the lazy dog the end');
  }
}

class Split extends GenericPE {
  constructor() {
    super();
    this.addInput('input').addOutput('output');
  }
  process(inputs: PEInputs) {
    for (const word of String(inputs.input).split(/\s+/)) this.write('output', [word, 1]);
  }
}

class Count extends GenericPE {
  private counts = new Map<string, number>();
  constructor() {
    super();
    this.addInput('input', { grouping: [0] }).addOutput('output'); // same word → same instance
  }
  process(inputs: PEInputs) {
    const [word, n] = inputs.input as [string, number];
    this.counts.set(word, (this.counts.get(word) ?? 0) + n);
  }
  override postprocess() {
    for (const [word, n] of this.counts) this.write('output', [word, n]);
  }
}

const graph = new WorkflowGraph();
const split = new Split();
graph.connect(new Lines(), 'output', split, 'input');
graph.connect(split, 'output', new Count(), 'input');
export default graph;
