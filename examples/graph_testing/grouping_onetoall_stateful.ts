/**
 * grouping_onetoall_stateful: grouping_onetoall with the producer marked stateful (one
 * instance).
 *
 *   npx d4 run simple examples/graph_testing/grouping_onetoall_stateful.ts -i 3
 *   → {TestOneInOneOut1: {output: [1, 2, 3]}}
 */
import type { WorkflowGraph } from '@d4/core';
import { groupingOneToAll } from './grouping_onetoall.js';

export function groupingOneToAllStateful(): WorkflowGraph {
  return groupingOneToAll({ stateful: true });
}

export default groupingOneToAllStateful();
