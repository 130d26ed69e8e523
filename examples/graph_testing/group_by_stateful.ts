/**
 * group_by_stateful: group_by with two instances of the WordCounter, so the group-by
 * routing decides which instance counts which word.
 *
 *   npx d4 run simple examples/graph_testing/group_by_stateful.ts -i 10
 *   npx d4 run simple examples/graph_testing/group_by_stateful.ts -a groupByStateful --args '{"seed": 7}' -i 10
 *   npx d4 run multi examples/graph_testing/group_by_stateful.ts -i 10 -n 6
 */
import type { WorkflowGraph } from '@d4/core';
import { intArg } from './args.js';
import { buildGroupBy } from './group_by.js';
import { DEFAULT_SEED } from './random.js';

/** The graph for a seed: `groupByStateful({seed: 7})`. */
export function groupByStateful(args?: { seed?: number }): WorkflowGraph {
  return buildGroupBy(intArg(args, 'seed', DEFAULT_SEED), 2);
}

export default groupByStateful();
