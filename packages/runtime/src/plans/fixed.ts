import { portTables } from './port-tables.js';
import { GraphError, ProcessAssignmentError, assignProcesses, type GenericPE, type PEEdge, type RootFeed, type WorkflowGraph } from '@d4/core';

/**
 * Where every PE instance of a `multi` run lives. The driver computes it once and sends it
 * to the workers as plain data, so that every worker routes with the same tables.
 *
 * A *unit* is what one worker thread runs: one PE instance (default), or one partition's
 * sub-graph, each PE of it with one instance (`-s`).
 */
export interface MultiPlan {
  /** Every PE of the graph, in join order: a worker checks that it rebuilt the same graph. */
  peIds: string[];
  units: UnitPlan[];
  /** Instances of each PE. */
  numInstances: Record<string, number>;
  /** The unit that runs instance i of a PE: `instanceUnits[peId][i]`. */
  instanceUnits: Record<string, number[]>;
  /** Inbound addresses: an item in a batch carries an index into this table. */
  targets: Array<{ peId: string; port: string }>;
  /** Unconnected output ports (their writes are the run's results): a result carries an index into this. */
  results: Array<{ peId: string; port: string }>;
  /** Instance ranks per PE, as dispel4py prints them. */
  processes: Record<string, number[]>;
  partitioned: boolean;
}

export interface UnitPlan {
  peIds: string[];
  /** The instance index of each of the unit's PEs. */
  instance: Record<string, number>;
  /** What the unit's roots are fed. */
  feeds: RootFeed[];
}

/** One worker per PE instance, with dispel4py's process assignment. */
export function instancePlan(graph: WorkflowGraph, size: number, feeds: readonly RootFeed[]): MultiPlan {
  const assignment = assignProcesses(graph, size);
  const units: UnitPlan[] = [];
  const instanceUnits: Record<string, number[]> = {};
  const numInstances: Record<string, number> = {};
  for (const pe of graph.pes()) {
    const ranks = assignment.processes[pe.id];
    numInstances[pe.id] = ranks.length;
    instanceUnits[pe.id] = ranks.map((_, i) => {
      units.push({ peIds: [pe.id], instance: { [pe.id]: i }, feeds: i === 0 ? feeds.filter((f) => f.peId === pe.id) : [] });
      return units.length - 1;
    });
  }
  return { peIds: graph.pes().map((pe) => pe.id), units, numInstances, instanceUnits, ...tables(graph), processes: assignment.processes, partitioned: false };
}

/**
 * dispel4py's `-s`: each partition (the graph's `partitions`, else its roots | the rest)
 * runs its sub-graph sequentially in one worker. PEs listed in no partition form one more
 * partition. Every PE has one instance, so every grouping holds trivially.
 */
export function partitionPlan(graph: WorkflowGraph, size: number, feeds: readonly RootFeed[]): MultiPlan {
  const pes = graph.pes();
  const edges = graph.peEdges();
  let groups: GenericPE[][];
  if (graph.partitions && graph.partitions.length > 0) {
    const seen = new Map<GenericPE, number>();
    groups = graph.partitions.map((group, g) =>
      group.map((pe) => {
        if (!pes.includes(pe)) throw new GraphError(`partition ${g} lists PE ${pe.id || pe.name}, which is not in the graph`, 'D4_PARTITION');
        if (seen.has(pe)) throw new GraphError(`PE ${pe.id} is in partitions ${seen.get(pe)} and ${g}; a PE belongs to one partition`, 'D4_PARTITION');
        seen.set(pe, g);
        return pe;
      }),
    );
    const rest = pes.filter((pe) => !seen.has(pe));
    if (rest.length) groups.push(rest);
    groups = groups.filter((g) => g.length > 0);
  } else {
    const roots = graph.roots();
    const rest = pes.filter((pe) => !roots.includes(pe));
    groups = rest.length ? [roots, rest] : [roots];
  }
  if (groups.length > size) {
    throw new ProcessAssignmentError(
      `the partitioned run (-s) needs one process per partition: ${groups.length} partitions, but ${size} ${size === 1 ? 'was' : 'were'} given; use -n ${groups.length} or more`,
      groups.length,
    );
  }
  refuseCyclicPartitions(groups, edges);
  const units: UnitPlan[] = groups.map((group) => ({
    peIds: group.map((pe) => pe.id),
    instance: Object.fromEntries(group.map((pe) => [pe.id, 0])),
    feeds: feeds.filter((f) => group.some((pe) => pe.id === f.peId)),
  }));
  const instanceUnits: Record<string, number[]> = {};
  const numInstances: Record<string, number> = {};
  const processes: Record<string, number[]> = {};
  groups.forEach((group, u) => {
    for (const pe of group) {
      instanceUnits[pe.id] = [u];
      numInstances[pe.id] = 1;
      processes[pe.id] = [u];
    }
  });
  return { peIds: pes.map((pe) => pe.id), units, numInstances, instanceUnits, ...tables(graph), processes, partitioned: true };
}

function tables(graph: WorkflowGraph): Pick<MultiPlan, 'targets' | 'results'> {
  const { targets, results } = portTables(graph);
  // No root entries were asked for, so every target has a port.
  return { targets: targets as MultiPlan['targets'], results };
}

/**
 * Bounded queues between partitions deadlock when partitions feed each other in a cycle
 * (A waits for B's credit while B waits for A's), so such partitionings are refused.
 */
function refuseCyclicPartitions(groups: GenericPE[][], edges: readonly PEEdge[]): void {
  const groupOf = new Map<GenericPE, number>();
  groups.forEach((g, i) => g.forEach((pe) => groupOf.set(pe, i)));
  const next = groups.map(() => new Set<number>());
  for (const e of edges) {
    const a = groupOf.get(e.from)!;
    const b = groupOf.get(e.to)!;
    if (a !== b) next[a].add(b);
  }
  const state = groups.map(() => 0); // 0 new, 1 on the path, 2 done
  const visit = (g: number): void => {
    if (state[g] === 2) return;
    if (state[g] === 1) {
      throw new GraphError(
        `the partitions feed each other in a cycle (through partition ${g}: ${groups[g].map((pe) => pe.id).join(', ')}); a partitioned run (-s) needs partitions that pass data one way only — regroup the PEs`,
        'D4_PARTITION_CYCLE',
      );
    }
    state[g] = 1;
    for (const h of next[g]) visit(h);
    state[g] = 2;
  };
  groups.forEach((_, g) => visit(g));
}

/**
 * Which worker runs each unit: consecutive units (a PE's neighbours in join order) share a
 * worker, so that most hops of a pipeline stay inside one, up to an even share per worker;
 * two instances of one PE never share a worker (they would share its PE objects).
 */
export function placeUnits(plan: MultiPlan, workers: number): number[] {
  const share = Math.ceil(plan.units.length / workers);
  const load = new Array<number>(workers).fill(0);
  const pesIn: Array<Set<string>> = Array.from({ length: workers }, () => new Set());
  const workerOf: number[] = [];
  let t = 0;
  plan.units.forEach((unit, u) => {
    const fits = (k: number, strict: boolean) => (!strict || load[k] < share) && unit.peIds.every((id) => !pesIn[k].has(id));
    let k = t;
    for (let tries = 0; tries < workers && !fits(k, true); tries++) k = (k + 1) % workers;
    if (!fits(k, true)) {
      k = 0;
      while (!fits(k, false)) k++;
    }
    workerOf[u] = k;
    load[k]++;
    for (const id of unit.peIds) pesIn[k].add(id);
    if (load[k] >= share) t = (k + 1) % workers;
    else t = k;
  });
  return workerOf;
}

/** The fewest workers that can host a plan: the most instances of one PE. */
export function minimumWorkers(plan: MultiPlan): number {
  return Math.max(1, ...Object.values(plan.numInstances));
}

/** How a unit is named in messages: "PE Identity2 instance 1", or "partition A0, B1". */
export function describeUnit(plan: MultiPlan, u: number): string {
  const unit = plan.units[u];
  return plan.partitioned ? `partition ${unit.peIds.join(', ')}` : `PE ${unit.peIds[0]} instance ${unit.instance[unit.peIds[0]]}`;
}
