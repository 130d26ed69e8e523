/**
 * grouping_alltoone_stateful: grouping_alltoone with the producer marked stateful (one
 * instance). Stateless-only mappings (dyn_*) refuse it and name the PE.
 *
 *   npx d4 run simple examples/graph_testing/grouping_alltoone_stateful.ts -i 3
 *   → {TestOneInOneOut2: {output: [1, 2, 3]}}
 */
import type { WorkflowGraph } from '@d4/core';
import { groupingAllToOne } from './grouping_alltoone.js';

export function groupingAllToOneStateful(): WorkflowGraph {
  return groupingAllToOne({ stateful: true });
}

export default groupingAllToOneStateful();
