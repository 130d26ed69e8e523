/**
 * split_merge: a producer with two outputs feeds two PEs (one returns its output, one
 * calls write()), and a fourth PE merges both streams into text.
 *
 *   npx d4 run simple examples/graph_testing/split_merge.ts -i 3
 *   → {TestTwoInOneOut3: {output: ['1', '1', '2', '2', '3', '3']}} (order may vary on parallel mappings)
 */
import { WorkflowGraph } from '@d4/core';
import { TestOneInOneOut, TestOneInOneOutWriter, TestProducer, TestTwoInOneOut } from './testing_pes.js';

export function splitMerge(): WorkflowGraph {
  const graph = new WorkflowGraph();
  const producer = new TestProducer(2);
  const left = new TestOneInOneOut();
  const right = new TestOneInOneOutWriter();
  const merge = new TestTwoInOneOut();
  graph.connect(producer, 'output0', left, 'input');
  graph.connect(producer, 'output1', right, 'input');
  graph.connect(left, 'output', merge, 'input0');
  graph.connect(right, 'output', merge, 'input1');
  return graph;
}

export default splitMerge();
