import type { WorkflowGraph } from '@d4/core';
import { placementPlan, type PlacementKind, type PlacementPlan } from '@d4/runtime';

export type RedisMappingName = 'redis' | 'dyn_redis' | 'dyn_auto_redis' | 'hybrid_redis';

export const PLACEMENT: Record<RedisMappingName, PlacementKind> = { redis: 'fixed', dyn_redis: 'dynamic', dyn_auto_redis: 'dynamic', hybrid_redis: 'hybrid' };

/**
 * The runtime's placement plan (roots in the driver, pinned instances as "units" with their
 * own streams, shared PEs through one consumer group) and the workers this host starts.
 * The same for the driver and every worker: stored in the job's metadata.
 */
export interface Plan extends PlacementPlan {
  mapping: RedisMappingName;
  /** Worker processes run() starts on this host. */
  localWorkers: number;
  /** Units each local worker holds from the start. */
  localUnits: number[][];
}

export function makePlan(graph: WorkflowGraph, mapping: RedisMappingName, numProcesses: number): Plan {
  const placement = placementPlan(graph, PLACEMENT[mapping], numProcesses, mapping);
  const hasWork = placement.pes.some((p) => p.mode !== 'root');
  const localWorkers = !hasWork ? 0 : mapping === 'redis' ? placement.units.length : numProcesses;
  const localUnits: number[][] = Array.from({ length: localWorkers }, () => []);
  placement.units.forEach((_, s) => localUnits[s % Math.max(1, localWorkers)]?.push(s));
  return { ...placement, mapping, localWorkers, localUnits };
}
