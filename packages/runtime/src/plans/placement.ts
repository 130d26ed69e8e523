import { ProcessAssignmentError, assignProcesses, minimumProcesses, statefulReason, type WorkflowGraph } from '@d4/core';

/** Which kind of distribution places the PEs: dispel4py's fixed, dynamic, or d4's hybrid. */
export type PlacementKind = 'fixed' | 'dynamic' | 'hybrid';

/**
 * How a PE runs:
 * - 'root': in the driver, one instance (dispel4py gives every source one process);
 * - 'shared': through the shared pool, an instance in whichever worker takes an item;
 * - 'pinned': fixed instances ("units"), each with its own queue, run by the one worker that
 *   holds it.
 */
export type PEMode = 'root' | 'shared' | 'pinned';

export interface PlanPE {
  id: string;
  mode: PEMode;
  /** Pinned: the unit index of each instance. */
  units: number[];
  /** Indices of the PEs that feed this one, and of those it feeds. */
  preds: number[];
  succs: number[];
}

export interface PlanUnit {
  pe: number;
  instance: number;
}

/**
 * Where every PE of a run lives, for backends whose roots run in the driver: the same for
 * the driver and every worker (computed once by the driver, sent to workers as data).
 */
export interface PlacementPlan {
  kind: PlacementKind;
  numProcesses: number;
  pes: PlanPE[];
  units: PlanUnit[];
}

/**
 * - fixed: every PE but the roots pinned, with dispel4py's process assignment (sources keep
 *   their one rank, which is the driver);
 * - dynamic: every PE but the roots shared (stateless only: the mapping refuses the rest);
 * - hybrid: stateful PEs pinned (numprocesses instances, at least one), the rest shared.
 */
export function placementPlan(graph: WorkflowGraph, kind: PlacementKind, numProcesses: number, mapping: string): PlacementPlan {
  const pes = graph.pes();
  const index = new Map(pes.map((pe, i) => [pe, i]));
  const edges = graph.peEdges();
  const fed = new Set(edges.map((e) => e.to));
  const planPEs: PlanPE[] = pes.map((pe) => ({ id: pe.id, mode: fed.has(pe) ? 'shared' : 'root', units: [], preds: [], succs: [] }));
  for (const e of edges) {
    const from = index.get(e.from)!;
    const to = index.get(e.to)!;
    if (!planPEs[to].preds.includes(from)) planPEs[to].preds.push(from);
    if (!planPEs[from].succs.includes(to)) planPEs[from].succs.push(to);
  }
  const units: PlanUnit[] = [];
  const pin = (pe: number, count: number) => {
    planPEs[pe].mode = 'pinned';
    for (let i = 0; i < count; i++) {
      planPEs[pe].units.push(units.length);
      units.push({ pe, instance: i });
    }
  };
  if (kind === 'fixed') {
    const assignment = assignProcesses(graph, numProcesses);
    pes.forEach((pe, i) => {
      if (planPEs[i].mode !== 'root') pin(i, assignment.processes[pe.id].length);
    });
  } else if (kind === 'hybrid') {
    pes.forEach((pe, i) => {
      if (planPEs[i].mode !== 'root' && statefulReason(pe)) pin(i, Math.max(1, pe.numprocesses));
    });
    if (units.length > numProcesses) {
      const pinned = planPEs.filter((p) => p.mode === 'pinned').map((p) => `${p.id} ×${p.units.length}`);
      throw new ProcessAssignmentError(
        `${mapping} pins every instance of a stateful PE to a worker of its own, and this graph has ${units.length} (${pinned.join(', ')}), but -n is ${numProcesses}; use -n ${units.length} or more`,
        units.length,
      );
    }
  }
  return { kind, numProcesses, pes: planPEs, units };
}

/** The smallest -n that places the graph: fixed, what dispel4py's assignment needs; hybrid, one per pinned instance; dynamic, one. */
export function minimumPlacement(graph: WorkflowGraph, kind: PlacementKind): number {
  if (kind === 'fixed') return minimumProcesses(graph);
  if (kind === 'dynamic') return 1;
  const fed = new Set(graph.peEdges().map((e) => e.to));
  return graph.pes().reduce((n, pe) => n + (fed.has(pe) && statefulReason(pe) ? Math.max(1, pe.numprocesses) : 0), 0);
}
