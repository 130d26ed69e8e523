/**
 * parallel_pipeline: producer → TestOneInOneOut1, which feeds two sinks. With fewer
 * processes than PEs, dispel4py runs partitions of the graph instead of single PEs (see
 * partition_parallel_pipeline for choosing the partitions).
 *
 *   npx d4 run simple examples/graph_testing/parallel_pipeline.ts -i 3
 *   → {TestOneInOneOut2: {output: [1, 2, 3]}, TestOneInOneOut3: {output: [1, 2, 3]}}
 */
import { WorkflowGraph } from '@d4/core';
import { TestOneInOneOut, TestProducer } from './testing_pes.js';

export function parallelPipeline(): WorkflowGraph {
  const graph = new WorkflowGraph();
  const producer = new TestProducer();
  const first = new TestOneInOneOut();
  graph.connect(producer, 'output', first, 'input');
  graph.connect(first, 'output', new TestOneInOneOut(), 'input');
  graph.connect(first, 'output', new TestOneInOneOut(), 'input');
  return graph;
}

export default parallelPipeline();
