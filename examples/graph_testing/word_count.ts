/**
 * word_count: random words counted by three instances of a WordCounter grouped by word.
 * Each output is [word, count so far], so the last output for a word is its total.
 * The words come from the seed (default 42).
 *
 *   npx d4 run simple examples/graph_testing/word_count.ts -i 20
 *   npx d4 run simple examples/graph_testing/word_count.ts -a wordCount --args '{"seed": 7}' -i 20
 *   npx d4 run multi examples/graph_testing/word_count.ts -i 20 -n 4
 */
import { WorkflowGraph } from '@d4/core';
import { intArg } from './args.js';
import { DEFAULT_SEED } from './random.js';
import { RandomWordProducer, WordCounter } from './testing_pes.js';

/** The graph for a seed: `wordCount({seed: 7})`. */
export function wordCount(args?: { seed?: number }): WorkflowGraph {
  const words = new RandomWordProducer(intArg(args, 'seed', DEFAULT_SEED));
  words.numprocesses = 1;
  const counter = new WordCounter();
  counter.numprocesses = 3;
  const graph = new WorkflowGraph();
  graph.connect(words, 'output', counter, 'input');
  return graph;
}

export default wordCount();
