/**
 * pipeline_composite: a producer feeding a composite PE made of a chain of functions
 * (dispel4py's create_iterative_chain), one of them with a parameter. Each value v
 * becomes (v + 2) * 4 / 2 - 1.
 *
 *   npx d4 run simple examples/graph_testing/pipeline_composite.ts -i 3
 *   → {PE_subtract4: {output: [5, 7, 9]}}
 *   npx d4 graph examples/graph_testing/pipeline_composite.ts --dot   (the chain is a cluster)
 */
import { WorkflowGraph, createIterativeChain } from '@d4/core';
import { TestProducer } from './testing_pes.js';

export const addTwo = (data: number): number => 2 + data;
export const multiplyByFour = (data: number): number => 4 * data;
export const divideByTwo = (data: number): number => data / 2;
export const subtract = (data: number, params: { n: number }): number => data - params.n;

export function pipelineComposite(): WorkflowGraph {
  // 'PE_' as in dispel4py, whose chains name each function's PE PE_<function>.
  const chain = createIterativeChain([addTwo, multiplyByFour, divideByTwo, [subtract, { n: 1 }]], { namePrefix: 'PE_' });
  const graph = new WorkflowGraph();
  graph.connect(new TestProducer(), 'output', chain, 'input');
  return graph;
}

export default pipelineComposite();
