/**
 * pipeline_test: a producer and a chain of five pass-through PEs, the smallest workflow
 * that shows items streaming through a graph.
 *
 *   npx d4 run simple examples/graph_testing/pipeline_test.ts -i 3
 *   → {TestOneInOneOut5: {output: [1, 2, 3]}}
 *
 * On a fixed mapping every PE takes one process: `npx d4 run multi … -n 6`.
 */
import { WorkflowGraph } from '@d4/core';
import { intArg } from './args.js';
import { TestOneInOneOut, TestProducer } from './testing_pes.js';

/** Adds a producer followed by `length` pass-through PEs to `graph`, and returns the last PE. */
export function addPipeline(graph: WorkflowGraph, length = 5): TestOneInOneOut | TestProducer {
  let previous: TestOneInOneOut | TestProducer = new TestProducer();
  graph.add(previous);
  for (let i = 0; i < length; i++) {
    const next = new TestOneInOneOut();
    graph.connect(previous, 'output', next, 'input');
    previous = next;
  }
  return previous;
}

/** The pipeline; `{length}` sets the number of pass-through PEs (5 as in dispel4py). */
export function pipelineTest(args?: { length?: number }): WorkflowGraph {
  const graph = new WorkflowGraph();
  addPipeline(graph, intArg(args, 'length', 5, 1));
  return graph;
}

export default pipelineTest();
