import { rebuildWorkflow, type GenericPE, type LogFn, type PEStats, type WorkflowGraph, type WorkflowSource } from '@d4/core';
import { LocalEngine, mergeStats, unconnectedPorts } from '@d4/runtime';
import type { Outbox } from './outbox.js';
import type { Plan } from './plan.js';

/** One PE instance in a worker: a pinned one (a unit with its stream) or a shared PE's. */
export interface Instance {
  readonly pe: GenericPE;
  readonly peIndex: number;
  readonly engine: LocalEngine;
  readonly unit?: number;
  closed: boolean;
}

/**
 * PE objects in use by an instance in this process. Workers in one process may load a module
 * that exports one graph object: the second instance of a PE gets its own object.
 */
const usedPEs = new Set<GenericPE>();

/**
 * The PE instances of one worker: those of the units it holds (created when it takes the
 * unit: preprocess runs then), those of shared PEs (created on their first item), and those
 * of units it lost (kept for their figures). Their writes go to the worker's outbox.
 */
export class Instances {
  readonly units = new Map<number, Instance>();
  private readonly shared = new Map<number, Instance>();
  private readonly retired: Instance[] = [];
  private readonly unconnected: Set<string>;

  constructor(
    private readonly graph: WorkflowGraph,
    private readonly plan: Plan,
    /** Where the module is rebuilt from for a second instance of a PE in this process. */
    private readonly source: WorkflowSource,
    private readonly outbox: Outbox,
    private readonly log: LogFn,
    private readonly rank: () => number,
  ) {
    this.unconnected = unconnectedPorts(graph.pes(), graph.peEdges());
  }

  /** The instance of a shared PE in this worker, created (and preprocessed) on first use. */
  async forShared(peIndex: number): Promise<Instance> {
    let instance = this.shared.get(peIndex);
    if (!instance) {
      instance = await this.create(peIndex, undefined);
      this.shared.set(peIndex, instance);
    }
    return instance;
  }

  /** A fresh instance for a unit this worker now holds. */
  async hold(unit: number): Promise<Instance> {
    const instance = await this.create(this.plan.units[unit].pe, unit);
    this.units.set(unit, instance);
    return instance;
  }

  /** Another worker holds the unit now: its instance reads no more (its figures stay). */
  lose(unit: number): void {
    const instance = this.units.get(unit);
    if (!instance) return;
    this.units.delete(unit);
    this.retired.push(instance);
  }

  /** Runs postprocess() of this worker's open instances of a PE. */
  async close(peIndex: number): Promise<void> {
    const instances = [...this.units.values(), ...this.shared.values()].filter((i) => i.peIndex === peIndex && !i.closed);
    for (const instance of instances) {
      await instance.engine.postprocessOne(instance.pe);
      instance.closed = true;
    }
  }

  stats(): Record<string, PEStats> {
    const stats: Record<string, PEStats> = {};
    for (const instance of [...this.units.values(), ...this.shared.values(), ...this.retired]) mergeStats(stats, instance.engine.stats());
    return stats;
  }

  private async create(peIndex: number, unit: number | undefined): Promise<Instance> {
    const pe = await this.freshPE(peIndex);
    const planned = this.plan.pes[peIndex];
    const rank = this.rank();
    pe.instance = unit === undefined ? rank : this.plan.units[unit].instance;
    pe.numInstances = unit === undefined ? Math.max(this.plan.numProcesses, rank + 1) : planned.units.length;
    const engine = new LocalEngine({
      pes: [pe],
      localEdges: [],
      externalPorts: this.outbox.externalPorts(peIndex),
      external: this.outbox.writerFor(peIndex, pe.instance),
      unconnectedPorts: this.unconnected,
      collector: this.outbox.results,
      log: this.log,
    });
    await engine.preprocess();
    return { pe, peIndex, engine, unit, closed: false };
  }

  /** A PE object no other instance in this process uses (state must not be shared). */
  private async freshPE(peIndex: number): Promise<GenericPE> {
    let pe = this.graph.pes()[peIndex];
    if (usedPEs.has(pe)) {
      const rebuilt = (await rebuildWorkflow(this.source)).flatten().pes()[peIndex];
      pe = usedPEs.has(rebuilt) ? clonePE(rebuilt) : rebuilt;
    }
    usedPEs.add(pe);
    return pe;
  }
}

/** A copy of a PE with its own data (for a second instance in one process). */
function clonePE(pe: GenericPE): GenericPE {
  const copy = Object.create(Object.getPrototypeOf(pe)) as Record<string | symbol, unknown>;
  for (const key of Reflect.ownKeys(pe)) {
    const value = (pe as unknown as Record<string | symbol, unknown>)[key];
    try {
      copy[key] = typeof value === 'function' ? value : structuredClone(value);
    } catch {
      copy[key] = value;
    }
  }
  return copy as unknown as GenericPE;
}
