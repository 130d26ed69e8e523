/**
 * delayed_pipeline: producer → TestOneInOneOut1 → TestDelayOneInOneOut2, which waits
 * `delayMs` (1 s by default, as in dispel4py) per item and is wrapped in a ProcessTimingPE
 * that logs the average time per call when it ends. Parallel mappings overlap the waits.
 *
 *   npx d4 run simple examples/graph_testing/delayed_pipeline.ts -i 3
 *   → {TestDelayOneInOneOut2: {output: [1, 2, 3]}}, and on stderr
 *     "TestDelayOneInOneOut2 (rank 0): Average processing time: 1000.… ms over 3 call(s)"
 *   npx d4 run multi examples/graph_testing/delayed_pipeline.ts -a delayedPipeline --args '{"delayMs": 100}' -i 10
 */
import { WorkflowGraph } from '@d4/core';
import { intArg } from './args.js';
import { ProcessTimingPE } from './monitoring.js';
import { TestDelayOneInOneOut, TestOneInOneOut, TestProducer } from './testing_pes.js';

/** The graph; `{delayMs}` sets the wait per item. */
export function delayedPipeline(args?: { delayMs?: number }): WorkflowGraph {
  const graph = new WorkflowGraph();
  const producer = new TestProducer();
  const first = new TestOneInOneOut();
  const delayed = new ProcessTimingPE(new TestDelayOneInOneOut(intArg(args, 'delayMs', 1000, 0)));
  graph.connect(producer, 'output', first, 'input');
  graph.connect(first, 'output', delayed, 'input');
  return graph;
}

export default delayedPipeline();
