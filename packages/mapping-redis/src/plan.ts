import { ProcessAssignmentError, assignProcesses, statefulReason, type WorkflowGraph } from '@d4/core';

export type RedisMappingName = 'redis' | 'dyn_redis' | 'dyn_auto_redis' | 'hybrid_redis';

/**
 * How a PE runs:
 * - 'root': in the driver, one instance (dispel4py gives every source one process);
 * - 'shared': through the shared consumer group, an instance in any worker that takes an item;
 * - 'pinned': fixed instances ("slots"), each with its own stream, run by the worker that
 *   holds the slot's lease.
 */
export type PEMode = 'root' | 'shared' | 'pinned';

export interface PlanPE {
  id: string;
  mode: PEMode;
  /** Pinned: the slot index of each instance. */
  slots: number[];
  /** Indices of the PEs that feed this one, and of those it feeds. */
  preds: number[];
  succs: number[];
}

export interface PlanSlot {
  pe: number;
  instance: number;
}

/** The same for the driver and every worker: computed once, stored in the job's metadata. */
export interface Plan {
  mapping: RedisMappingName;
  numProcesses: number;
  pes: PlanPE[];
  slots: PlanSlot[];
  /** Worker processes run() starts on this host. */
  localWorkers: number;
  /** Slots each local worker holds from the start. */
  localSlots: number[][];
}

export function makePlan(graph: WorkflowGraph, mapping: RedisMappingName, numProcesses: number): Plan {
  const pes = graph.pes();
  const index = new Map(pes.map((pe, i) => [pe, i]));
  const edges = graph.peEdges();
  const fed = new Set(edges.map((e) => e.to));
  const planPEs: PlanPE[] = pes.map((pe) => ({ id: pe.id, mode: fed.has(pe) ? 'shared' : 'root', slots: [], preds: [], succs: [] }));
  for (const e of edges) {
    const from = index.get(e.from)!;
    const to = index.get(e.to)!;
    if (!planPEs[to].preds.includes(from)) planPEs[to].preds.push(from);
    if (!planPEs[from].succs.includes(to)) planPEs[from].succs.push(to);
  }
  const slots: PlanSlot[] = [];
  const pin = (pe: number, count: number) => {
    planPEs[pe].mode = 'pinned';
    for (let i = 0; i < count; i++) {
      planPEs[pe].slots.push(slots.length);
      slots.push({ pe, instance: i });
    }
  };
  if (mapping === 'redis') {
    // dispel4py's assignment; sources keep their one rank, which is the driver.
    const assignment = assignProcesses(graph, numProcesses);
    pes.forEach((pe, i) => {
      if (planPEs[i].mode !== 'root') pin(i, assignment.processes[pe.id].length);
    });
  } else if (mapping === 'hybrid_redis') {
    pes.forEach((pe, i) => {
      if (planPEs[i].mode !== 'root' && statefulReason(pe)) pin(i, Math.max(1, pe.numprocesses));
    });
    if (slots.length > numProcesses) {
      const pinned = planPEs.filter((p) => p.mode === 'pinned').map((p) => `${p.id} ×${p.slots.length}`);
      throw new ProcessAssignmentError(
        `hybrid_redis pins every instance of a stateful PE to a worker of its own, and this graph has ${slots.length} (${pinned.join(', ')}), but -n is ${numProcesses}; use -n ${slots.length} or more`,
        slots.length,
      );
    }
  }
  const hasWork = planPEs.some((p) => p.mode !== 'root');
  const localWorkers = !hasWork ? 0 : mapping === 'redis' ? slots.length : numProcesses;
  const localSlots: number[][] = Array.from({ length: localWorkers }, () => []);
  slots.forEach((_, s) => localSlots[s % Math.max(1, localWorkers)]?.push(s));
  return { mapping, numProcesses, pes: planPEs, slots, localWorkers, localSlots };
}
