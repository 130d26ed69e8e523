/**
 * multi_producer: a producer that writes ten numbers per call, through two pass-through
 * PEs: one call of a PE may write any number of items.
 *
 *   npx d4 run simple examples/graph_testing/multi_producer.ts -i 2
 *   → {TestOneInOneOut2: {output: [0, 1, … 9, 0, 1, … 9]}}
 */
import { WorkflowGraph } from '@d4/core';
import { TestMultiProducer, TestOneInOneOut } from './testing_pes.js';

export function multiProducer(): WorkflowGraph {
  const first = new TestOneInOneOut();
  const graph = new WorkflowGraph();
  graph.connect(new TestMultiProducer(), 'output', first, 'input');
  graph.connect(first, 'output', new TestOneInOneOut(), 'input');
  return graph;
}

export default multiProducer();
