/**
 * uncaught_exception_test: a PE whose postprocess() throws after it has passed on every
 * item. The run still fails (it does not end quietly with partial results), naming the
 * PE and the phase.
 *
 *   npx d4 run simple examples/graph_testing/uncaught_exception_test.ts -i 3
 *   → error D4_PE_FAILED naming ExceptionRaiser1 in postprocess: 'Uncaught exception'
 */
import { IterativePE, WorkflowGraph } from '@d4/core';
import { TestOneInOneOut, TestProducer } from './testing_pes.js';

export class PostprocessRaiser extends IterativePE {
  constructor() {
    super('ExceptionRaiser');
  }

  _process(data: unknown): unknown {
    return data;
  }

  override postprocess(): void {
    throw new Error('Uncaught exception');
  }
}

export function uncaughtExceptionTest(): WorkflowGraph {
  const raiser = new PostprocessRaiser();
  const graph = new WorkflowGraph();
  graph.connect(new TestProducer(), 'output', raiser, 'input');
  graph.connect(raiser, 'output', new TestOneInOneOut(), 'input');
  return graph;
}

export default uncaughtExceptionTest();
