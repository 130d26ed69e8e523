/**
 * partition_parallel_pipeline: parallel_pipeline with the partitions chosen by hand:
 * producer, TestOneInOneOut1 and TestOneInOneOut2 run together in one process, and
 * TestOneInOneOut3 in the others. Mappings without partitions ignore them; the results
 * are the same.
 *
 *   npx d4 run simple examples/graph_testing/partition_parallel_pipeline.ts -i 3
 *   → {TestOneInOneOut2: {output: [1, 2, 3]}, TestOneInOneOut3: {output: [1, 2, 3]}}
 */
import type { WorkflowGraph } from '@d4/core';
import { parallelPipeline } from './parallel_pipeline.js';

export function partitionParallelPipeline(): WorkflowGraph {
  const graph = parallelPipeline();
  const [producer, first, second, third] = graph.pes();
  graph.partitions = [[producer, first, second], [third]];
  return graph;
}

export default partitionParallelPipeline();
