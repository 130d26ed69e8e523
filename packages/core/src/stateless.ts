import { StatefulGraphError } from './errors.js';
import type { WorkflowGraph } from './graph.js';
import { statefulReason } from './pe.js';

/**
 * Stateless-only (dynamic) mappings call this before any work: a PE with a grouping or
 * the stateful flag would get wrong results when any worker may run any item.
 */
export function refuseStatefulPEs(graph: WorkflowGraph, mapping: string, alternatives: string[]): void {
  for (const pe of graph.pes()) {
    const reason = statefulReason(pe);
    if (reason) throw new StatefulGraphError(mapping, pe.id, reason, alternatives);
  }
}
