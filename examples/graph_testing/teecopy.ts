/**
 * teecopy: one output connected to two different PEs; each receives a copy of every item.
 * (Compare grouping_onetoall, where the copies go to the instances of one PE.)
 *
 *   npx d4 run simple examples/graph_testing/teecopy.ts -i 3
 *   → {TestOneInOneOut1: {output: [1, 2, 3]}, TestOneInOneOut2: {output: [1, 2, 3]}}
 */
import { WorkflowGraph } from '@d4/core';
import { TestOneInOneOut, TestProducer } from './testing_pes.js';

export function teecopy(): WorkflowGraph {
  const graph = new WorkflowGraph();
  const producer = new TestProducer();
  graph.connect(producer, 'output', new TestOneInOneOut(), 'input');
  graph.connect(producer, 'output', new TestOneInOneOut(), 'input');
  return graph;
}

export default teecopy();
