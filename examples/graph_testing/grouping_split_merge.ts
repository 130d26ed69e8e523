/**
 * grouping_split_merge: random words go to two random filters, and what passes either
 * filter is merged into one WordCounter (grouped by word). A word may pass both filters
 * and then is counted twice. The choices come from the seed (default 42).
 *
 *   npx d4 run simple examples/graph_testing/grouping_split_merge.ts -i 10
 *   npx d4 run simple examples/graph_testing/grouping_split_merge.ts -a groupingSplitMerge --args '{"seed": 7}' -i 10
 */
import { WorkflowGraph } from '@d4/core';
import { intArg } from './args.js';
import { DEFAULT_SEED } from './random.js';
import { RandomFilter, RandomWordProducer, WordCounter } from './testing_pes.js';

export function groupingSplitMerge(args?: { seed?: number }): WorkflowGraph {
  const seed = intArg(args, 'seed', DEFAULT_SEED);
  const words = new RandomWordProducer(seed);
  const filter1 = new RandomFilter(seed);
  const filter2 = new RandomFilter(seed);
  const count = new WordCounter();
  const graph = new WorkflowGraph();
  graph.connect(words, 'output', filter1, 'input');
  graph.connect(words, 'output', filter2, 'input');
  graph.connect(filter1, 'output', count, 'input');
  graph.connect(filter2, 'output', count, 'input');
  return graph;
}

export default groupingSplitMerge();
