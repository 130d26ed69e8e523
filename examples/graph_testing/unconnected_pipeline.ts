/**
 * unconnected_pipeline: two separate pipelines in one graph. Both producers are roots, so
 * -i feeds each of them, and both sinks return their items.
 *
 *   npx d4 run simple examples/graph_testing/unconnected_pipeline.ts -i 3
 *   → {TestOneInOneOut5: {output: [1, 2, 3]}, TestOneInOneOut11: {output: [1, 2, 3]}}
 */
import { WorkflowGraph } from '@d4/core';
import { addPipeline } from './pipeline_test.js';

export function unconnectedPipeline(): WorkflowGraph {
  const graph = new WorkflowGraph();
  addPipeline(graph);
  addPipeline(graph);
  return graph;
}

export default unconnectedPipeline();
