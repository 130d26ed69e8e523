import type { WorkflowGraph } from '@d4/core';
import { portTables } from './port-tables.js';

/**
 * Addresses of a dynamic run. A task is (target, value): a root target (port null) takes
 * the call's whole inputs object, any other target one value on one input port.
 */
export interface DynamicPlan {
  /** Every PE of the graph, in join order: a worker checks that it rebuilt the same graph. */
  peIds: string[];
  targets: Array<{ peId: string; port: string | null }>;
  results: Array<{ peId: string; port: string }>;
  /** Target index of each root PE. */
  rootTargets: Record<string, number>;
}

export function dynamicPlan(graph: WorkflowGraph): DynamicPlan {
  const roots = graph.roots();
  const rootTargets: Record<string, number> = {};
  roots.forEach((root, index) => {
    rootTargets[root.id] = index;
  });
  const { targets, results } = portTables(graph, roots.map((root) => ({ peId: root.id, port: null })));
  return { peIds: graph.pes().map((pe) => pe.id), targets, results, rootTargets };
}
