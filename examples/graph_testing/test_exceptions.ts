/**
 * test_exceptions: a PE that throws on odd numbers, followed by one that writes to a port
 * it does not declare. The run fails at the first item and says which PE failed, on which
 * item, and why; the CLI exits non-zero.
 *
 *   npx d4 run simple examples/graph_testing/test_exceptions.ts -i 2
 *   → error D4_PE_FAILED naming ExceptionRaiser1, the item {input: 1} and 'Not an even number!'
 */
import { IterativePE, WorkflowGraph } from '@d4/core';
import { TestProducer } from './testing_pes.js';

export class ExceptionRaiser extends IterativePE {
  constructor() {
    super('ExceptionRaiser');
  }

  _process(data: number): number {
    if (data % 2) throw new Error('Not an even number!');
    return data;
  }
}

export class UndefinedOutput extends IterativePE {
  constructor() {
    super('UndefinedOutput');
  }

  _process(data: unknown): undefined {
    this.write('does_not_exist', data);
    return undefined;
  }
}

export function testExceptions(): WorkflowGraph {
  const raiser = new ExceptionRaiser();
  const graph = new WorkflowGraph();
  graph.connect(new TestProducer(), 'output', raiser, 'input');
  graph.connect(raiser, 'output', new UndefinedOutput(), 'input');
  return graph;
}

export default testExceptions();
