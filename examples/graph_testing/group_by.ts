/**
 * group_by: random words pass three pass-through PEs and reach a WordCounter whose input
 * is grouped by element 0 (the word), so each word is counted by one instance. The graph
 * names three partitions: the producer, the three pass-through PEs, the counter.
 * Each output is [word, count so far]; the words come from the seed (default 42).
 *
 *   npx d4 run simple examples/graph_testing/group_by.ts -i 10
 *   npx d4 run simple examples/graph_testing/group_by.ts -a groupBy --args '{"seed": 7}' -i 10
 */
import { WorkflowGraph } from '@d4/core';
import { intArg } from './args.js';
import { DEFAULT_SEED } from './random.js';
import { RandomWordProducer, TestOneInOneOut, WordCounter } from './testing_pes.js';

/** The graph for a seed: `groupBy({seed: 7})`. */
export function groupBy(args?: { seed?: number }): WorkflowGraph {
  return buildGroupBy(intArg(args, 'seed', DEFAULT_SEED), 1);
}

/** The group_by graph with `counterInstances` instances of the WordCounter. */
export function buildGroupBy(seed: number, counterInstances: number): WorkflowGraph {
  const words = new RandomWordProducer(seed);
  const first = new TestOneInOneOut();
  const second = new TestOneInOneOut();
  const third = new TestOneInOneOut();
  const count = new WordCounter();
  if (counterInstances > 1) count.numprocesses = counterInstances;
  const graph = new WorkflowGraph();
  graph.connect(words, 'output', first, 'input');
  graph.connect(first, 'output', second, 'input');
  graph.connect(second, 'output', third, 'input');
  graph.connect(third, 'output', count, 'input');
  graph.partitions = [[words], [first, second, third], [count]];
  return graph;
}

export default groupBy();
