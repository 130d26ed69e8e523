/**
 * word_count_filter: random words, about half dropped by a random filter (5 instances),
 * the rest counted by a WordCounter (3 instances) grouped by word. The words and the
 * filter's choices come from the seed (default 42).
 *
 *   npx d4 run simple examples/graph_testing/word_count_filter.ts -i 20
 *   npx d4 run simple examples/graph_testing/word_count_filter.ts -a wordCountFilter --args '{"seed": 7}' -i 20
 */
import { WorkflowGraph } from '@d4/core';
import { intArg } from './args.js';
import { DEFAULT_SEED } from './random.js';
import { RandomFilter, RandomWordProducer, WordCounter } from './testing_pes.js';

/** The graph for a seed: `wordCountFilter({seed: 7})`. */
export function wordCountFilter(args?: { seed?: number }): WorkflowGraph {
  const seed = intArg(args, 'seed', DEFAULT_SEED);
  const words = new RandomWordProducer(seed);
  words.numprocesses = 1;
  const filter = new RandomFilter(seed);
  filter.numprocesses = 5;
  const count = new WordCounter();
  count.numprocesses = 3;
  const graph = new WorkflowGraph();
  graph.connect(words, 'output', filter, 'input');
  graph.connect(filter, 'output', count, 'input');
  return graph;
}

export default wordCountFilter();
