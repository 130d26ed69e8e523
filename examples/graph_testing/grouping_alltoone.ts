/**
 * grouping_alltoone: producer → TestOneInOneOut1 (5 instances) → TestOneInOneOut2
 * (5 instances, input grouping 'global'). Every instance of the first PE sends to
 * instance 0 of the second, so one instance gets all items and the other four get none.
 *
 *   npx d4 run simple examples/graph_testing/grouping_alltoone.ts -i 3
 *   → {TestOneInOneOut2: {output: [1, 2, 3]}}
 *   npx d4 run multi examples/graph_testing/grouping_alltoone.ts -i 10 -n 11
 */
import { WorkflowGraph } from '@d4/core';
import { TestOneInOneOut, TestProducer } from './testing_pes.js';

/** The graph; `stateful` marks the producer stateful too (grouping_alltoone_stateful). */
export function groupingAllToOne(options: { stateful?: boolean } = {}): WorkflowGraph {
  const graph = new WorkflowGraph();
  const producer = new TestProducer();
  if (options.stateful) {
    producer.numprocesses = 1;
    producer.stateful = true;
  }
  const first = new TestOneInOneOut();
  const second = new TestOneInOneOut().setGrouping('input', 'global');
  first.numprocesses = 5;
  second.numprocesses = 5;
  graph.connect(producer, 'output', first, 'input');
  graph.connect(first, 'output', second, 'input');
  return graph;
}

export default groupingAllToOne();
