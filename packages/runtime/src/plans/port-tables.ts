import { type WorkflowGraph } from '@d4/core';
import { portKey, unconnectedPorts } from '@d4/core/internal';

/** An address items are sent to: a PE's input port (or, for a root call, no port). */
export interface PortTarget {
  peId: string;
  port: string | null;
}

/**
 * The numbered addresses both the driver and the workers use, so that a message carries a
 * small index instead of a PE id and port name: every connected input port once (after any
 * `first` entries), and the unconnected output ports whose values are results.
 */
export function portTables(graph: WorkflowGraph, first: PortTarget[] = []): { targets: PortTarget[]; results: Array<{ peId: string; port: string }> } {
  const edges = graph.peEdges();
  const targets = [...first];
  const seen = new Set<string>();
  for (const e of edges) {
    const key = portKey(e.to.id, e.toPort);
    if (seen.has(key)) continue;
    seen.add(key);
    targets.push({ peId: e.to.id, port: e.toPort });
  }
  const unconnected = unconnectedPorts(graph.pes(), edges);
  const results: Array<{ peId: string; port: string }> = [];
  for (const pe of graph.pes()) for (const port of pe.outputs.keys()) if (unconnected.has(portKey(pe.id, port))) results.push({ peId: pe.id, port });
  return { targets, results };
}
