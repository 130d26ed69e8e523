import { WorkflowLoadError, type WorkflowGraph } from '@d4/core';

/**
 * A worker's rebuilt graph must have the PEs the driver planned, in the same order: a module
 * whose graph depends on time, randomness or the environment, or another version of it on
 * another host, would otherwise route items to PEs that do not exist there.
 */
export function checkSameGraph(graph: WorkflowGraph, plannedIds: readonly string[], module: string): void {
  const ids = graph.pes().map((pe) => pe.id);
  if (ids.length !== plannedIds.length || ids.some((id, i) => id !== plannedIds[i])) {
    throw new WorkflowLoadError(
      `the workflow rebuilt from ${module} has PEs ${ids.join(', ')}, but the job was planned with ${plannedIds.join(', ')}; every worker must load the same version of the module (same file, same arguments), and the module must build the same graph each time (not depending on time, randomness or the environment)`,
      'D4_WORKFLOW_MISMATCH',
    );
  }
}
