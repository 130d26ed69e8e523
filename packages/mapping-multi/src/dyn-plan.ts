import type { WorkflowGraph } from '@d4/core';

/**
 * Addresses of a dynamic run. A task is (target, value): a root target (port null) takes
 * the call's whole inputs object, any other target one value on one input port.
 */
export interface DynTables {
  targets: Array<{ peId: string; port: string | null }>;
  results: Array<{ peId: string; port: string }>;
  /** Target index of each root PE. */
  rootTargets: Record<string, number>;
}

export function dynTables(graph: WorkflowGraph): DynTables {
  const targets: DynTables['targets'] = [];
  const rootTargets: Record<string, number> = {};
  for (const root of graph.roots()) {
    rootTargets[root.id] = targets.length;
    targets.push({ peId: root.id, port: null });
  }
  const seen = new Set<string>();
  const edges = graph.peEdges();
  for (const e of edges) {
    const key = `${e.to.id}\u0000${e.toPort}`;
    if (seen.has(key)) continue;
    seen.add(key);
    targets.push({ peId: e.to.id, port: e.toPort });
  }
  const connected = new Set(edges.map((e) => `${e.from.id}\u0000${e.fromPort}`));
  const results: DynTables['results'] = [];
  for (const pe of graph.pes()) for (const port of pe.outputs.keys()) if (!connected.has(`${pe.id}\u0000${port}`)) results.push({ peId: pe.id, port });
  return { targets, results, rootTargets };
}
