import type { GenericPE } from './pe.js';
import type { PEStats, RunOptions, RunOutputCounts, RunOutputs } from './mapping.js';

/**
 * Gathers what PEs write to unconnected output ports, as every mapping must return it.
 * With collect: 'count' it keeps counts only, so very long runs stay in constant memory.
 */
export class OutputCollector {
  readonly outputs: RunOutputs = {};
  readonly counts: RunOutputCounts = {};
  private readonly keep: boolean;
  private readonly onOutput: RunOptions['onOutput'];

  constructor(options: Pick<RunOptions, 'collect' | 'onOutput'> = {}) {
    this.keep = options.collect !== 'count';
    this.onOutput = options.onOutput;
  }

  add(peId: string, port: string, value: unknown): void {
    const counts = (this.counts[peId] ??= {});
    counts[port] = (counts[port] ?? 0) + 1;
    if (this.keep) ((this.outputs[peId] ??= {})[port] ??= []).push(value);
    this.onOutput?.(peId, port, value);
  }

  addMany(peId: string, port: string, values: readonly unknown[]): void {
    for (const value of values) this.add(peId, port, value);
  }
}

export function emptyStats(pes: readonly GenericPE[]): Record<string, PEStats> {
  const stats: Record<string, PEStats> = {};
  for (const pe of pes) stats[pe.id] = { instances: 0, calls: 0, writes: 0, processMs: 0 };
  return stats;
}

/** Adds one instance's figures into the run's per-PE stats. */
export function mergeStats(into: Record<string, PEStats>, from: Record<string, PEStats>): void {
  for (const [id, s] of Object.entries(from)) {
    const t = (into[id] ??= { instances: 0, calls: 0, writes: 0, processMs: 0 });
    t.instances += s.instances;
    t.calls += s.calls;
    t.writes += s.writes;
    t.processMs += s.processMs;
  }
}
