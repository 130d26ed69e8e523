/**
 * grouping_onetoall: producer → TestOneInOneOut1 with 2 instances and input grouping
 * 'all': every instance receives its own copy of every item. (Compare teecopy, where the
 * copies go to two different PEs.) `simple` runs one instance, so each item arrives once;
 * a mapping that runs both instances returns each item twice.
 *
 *   npx d4 run simple examples/graph_testing/grouping_onetoall.ts -i 3
 *   → {TestOneInOneOut1: {output: [1, 2, 3]}}
 *   npx d4 run multi examples/graph_testing/grouping_onetoall.ts -i 3 -n 3   (→ 1, 1, 2, 2, 3, 3 in some order)
 */
import { WorkflowGraph } from '@d4/core';
import { TestOneInOneOut, TestProducer } from './testing_pes.js';

/** The graph; `stateful` marks the producer stateful too (grouping_onetoall_stateful). */
export function groupingOneToAll(options: { stateful?: boolean } = {}): WorkflowGraph {
  const graph = new WorkflowGraph();
  const producer = new TestProducer();
  if (options.stateful) {
    producer.numprocesses = 1;
    producer.stateful = true;
  }
  const consumer = new TestOneInOneOut().setGrouping('input', 'all');
  consumer.numprocesses = 2;
  graph.connect(producer, 'output', consumer, 'input');
  return graph;
}

export default groupingOneToAll();
