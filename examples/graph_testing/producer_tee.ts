/**
 * producer_tee: the producer's output goes to two PEs; one of them is a sink, the other
 * feeds a third PE. Sinks at different depths both return their items.
 *
 *   npx d4 run simple examples/graph_testing/producer_tee.ts -i 3
 *   → {TestOneInOneOut2: {output: [1, 2, 3]}, TestOneInOneOut3: {output: [1, 2, 3]}}
 */
import { WorkflowGraph } from '@d4/core';
import { TestOneInOneOut, TestProducer } from './testing_pes.js';

export function producerTee(): WorkflowGraph {
  const graph = new WorkflowGraph();
  const producer = new TestProducer();
  const first = new TestOneInOneOut();
  const sink = new TestOneInOneOut();
  const last = new TestOneInOneOut();
  graph.connect(producer, 'output', first, 'input');
  graph.connect(producer, 'output', sink, 'input');
  graph.connect(first, 'output', last, 'input');
  return graph;
}

export default producerTee();
