/**
 * large_teecopy: a NumberProducer that writes many items per call feeds
 * TestOneInOneOut1, which is copied to two sinks: a workload for moving many blocks.
 * Call k writes [k*i + i] for i = 0 … numIterations-1.
 *
 *   npx d4 run simple examples/graph_testing/large_teecopy.ts -i 2
 *   → both sinks (TestOneInOneOut2, TestOneInOneOut3): [[0], [1], … [9], [0], [2], … [18]]
 *   npx d4 run simple examples/graph_testing/large_teecopy.ts -a largeTeecopy --args '{"numIterations": 1000000}' --count
 *   (dispel4py read the number of items per call from its command line)
 */
import { WorkflowGraph } from '@d4/core';
import { intArg } from './args.js';
import { NumberProducer, TestOneInOneOut } from './testing_pes.js';

/** The graph; `{numIterations}` is the number of items per producer call (default 10). */
export function largeTeecopy(args?: { numIterations?: number }): WorkflowGraph {
  const producer = new NumberProducer(intArg(args, 'numIterations', 10, 0));
  const first = new TestOneInOneOut();
  const graph = new WorkflowGraph();
  graph.connect(producer, 'output', first, 'input');
  graph.connect(first, 'output', new TestOneInOneOut(), 'input');
  graph.connect(first, 'output', new TestOneInOneOut(), 'input');
  return graph;
}

export default largeTeecopy();
