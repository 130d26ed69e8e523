/**
 * loopcopy: TestOneInOneOut2 is fed twice: straight from the producer and at the end of a
 * detour through three PEs, so it returns every item twice. (Despite the name the graph
 * has no cycle; d4, like dispel4py, runs directed acyclic graphs.)
 *
 *   npx d4 run simple examples/graph_testing/loopcopy.ts -i 3
 *   → {TestOneInOneOut2: {output: [1, 1, 2, 2, 3, 3]}}
 */
import { WorkflowGraph } from '@d4/core';
import { TestOneInOneOut, TestProducer } from './testing_pes.js';

export function loopcopy(): WorkflowGraph {
  const producer = new TestProducer();
  const [first, target, third, fourth] = [new TestOneInOneOut(), new TestOneInOneOut(), new TestOneInOneOut(), new TestOneInOneOut()];
  const graph = new WorkflowGraph();
  graph.connect(producer, 'output', first, 'input');
  graph.connect(producer, 'output', target, 'input');
  graph.connect(first, 'output', third, 'input');
  graph.connect(third, 'output', fourth, 'input');
  graph.connect(fourth, 'output', target, 'input');
  return graph;
}

export default loopcopy();
