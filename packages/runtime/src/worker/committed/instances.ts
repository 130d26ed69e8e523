import { rebuildWorkflow, type GenericPE, type LogFn, type PEEdge, type PEStats, type WorkflowSource } from '@d4/core';
import { LocalEngine, mergeStats, unconnectedPorts, type OutputCollector } from '@d4/core/internal';
import { connectedPorts } from './write-routes.js';

/** One PE instance in a worker: a pinned unit's, or this worker's copy of a shared PE. */
export interface PEInstance {
  readonly pe: GenericPE;
  readonly peIndex: number;
  readonly engine: LocalEngine;
  /** The pinned unit it runs; undefined for a shared PE's copy. */
  readonly unit: number | undefined;
  closed: boolean;
}

/** What making an instance needs from the backend. */
export interface InstanceSetup {
  /** The graph's PEs (in graph order: `peIndex` indexes them) and edges. */
  readonly pes: readonly GenericPE[];
  readonly edges: readonly PEEdge[];
  /** A PE object that no other instance in this process uses (`ownPEs`). */
  freshPE(peIndex: number): GenericPE | Promise<GenericPE>;
  /** The instance number and count a new instance gets (`unit` undefined: a shared copy). */
  numbering(peIndex: number, unit: number | undefined): { instance: number; numInstances: number };
  /** Where the instance's writes on connected ports go (routing: `writeRoutes`). */
  writer(peIndex: number, instance: number): (pe: GenericPE, port: string, value: unknown) => void;
  /** Where writes on unconnected ports go. */
  readonly collector: OutputCollector;
  readonly log: LogFn;
}

/**
 * The instance factory of a worker whose work arrives without a fixed assignment (Redis
 * Streams: shared PEs through one group, pinned units held under leases that can move):
 * a shared PE's copy is made (and preprocessed) on its first item; a unit's instance when
 * the worker takes the unit; a lost unit's instance reads no more, and its figures stay.
 */
export class LazyInstances {
  private readonly units = new Map<number, PEInstance>();
  private readonly shared = new Map<number, PEInstance>();
  private readonly retired: PEInstance[] = [];
  private readonly unconnected: Set<string>;

  constructor(private readonly setup: InstanceSetup) {
    this.unconnected = unconnectedPorts(setup.pes, setup.edges);
  }

  /** This worker's copy of shared PE `peIndex`: synchronous once it exists. */
  sharedCopy(peIndex: number): PEInstance | Promise<PEInstance> {
    return this.shared.get(peIndex) ?? this.makeShared(peIndex);
  }

  /** The instance of a unit this worker holds, if it does. */
  unit(unit: number): PEInstance | undefined {
    return this.units.get(unit);
  }

  /** The units held now. */
  held(): IterableIterator<number> {
    return this.units.keys();
  }

  /** A fresh instance for a unit this worker now holds (preprocess runs now). */
  async hold(unit: number, peIndex: number): Promise<PEInstance> {
    const instance = await this.make(peIndex, unit);
    this.units.set(unit, instance);
    return instance;
  }

  /** Another worker holds the unit now (a takeover): its instance reads no more. */
  lose(unit: number): void {
    const instance = this.units.get(unit);
    if (!instance) return;
    this.units.delete(unit);
    this.retired.push(instance);
  }

  /** Runs postprocess() of this worker's open instances of PE `peIndex` (closing by command). */
  async close(peIndex: number): Promise<void> {
    for (const instance of [...this.units.values(), ...this.shared.values()]) {
      if (instance.peIndex !== peIndex || instance.closed) continue;
      await instance.engine.postprocessOne(instance.pe);
      instance.closed = true;
    }
  }

  /** Figures of every instance this worker ran, lost ones included. */
  stats(): Record<string, PEStats> {
    const stats: Record<string, PEStats> = {};
    for (const instance of [...this.units.values(), ...this.shared.values(), ...this.retired]) mergeStats(stats, instance.engine.stats());
    return stats;
  }

  private async makeShared(peIndex: number): Promise<PEInstance> {
    const instance = await this.make(peIndex, undefined);
    this.shared.set(peIndex, instance);
    return instance;
  }

  private async make(peIndex: number, unit: number | undefined): Promise<PEInstance> {
    const { setup } = this;
    const pe = await setup.freshPE(peIndex);
    const { instance, numInstances } = setup.numbering(peIndex, unit);
    pe.instance = instance;
    pe.numInstances = numInstances;
    const engine = new LocalEngine({
      pes: [pe],
      localEdges: [],
      externalPorts: connectedPorts(setup.edges, setup.pes[peIndex]),
      external: setup.writer(peIndex, instance),
      unconnectedPorts: this.unconnected,
      collector: setup.collector,
      log: setup.log,
    });
    await engine.preprocess();
    return { pe, peIndex, engine, unit, closed: false };
  }
}

/**
 * PE objects in use by an instance in this process. Workers in one process may load a module
 * that exports one graph object: a second instance of a PE gets an object of its own.
 */
const usedPEs = new Set<GenericPE>();

/**
 * `freshPE` for `InstanceSetup`: the graph's own PE object first, then one from the module
 * rebuilt (a factory export gives fresh objects), then a copy (state must not be shared).
 */
export function ownPEs(pes: readonly GenericPE[], source: WorkflowSource): (peIndex: number) => Promise<GenericPE> {
  return async (peIndex) => {
    let pe = pes[peIndex];
    if (usedPEs.has(pe)) {
      const rebuilt = (await rebuildWorkflow(source)).flatten().pes()[peIndex];
      pe = usedPEs.has(rebuilt) ? clonePE(rebuilt) : rebuilt;
    }
    usedPEs.add(pe);
    return pe;
  };
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
