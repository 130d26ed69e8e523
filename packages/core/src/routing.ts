import { InputError, ProcessAssignmentError, describeType, previewValue } from './errors.js';
import type { WorkflowGraph } from './graph.js';
import type { GenericPE, Grouping } from './pe.js';

/**
 * Routing shared by every mapping: which instances of a PE exist (process assignment) and
 * which destination instance an item goes to (groupings). Pure functions, so a backend in
 * another process computes exactly what the driver computed.
 */

/** Picks destination instances for items written on one edge by one source instance. */
export interface Router {
  /** 'all' sends one copy to every destination instance. */
  readonly broadcast: boolean;
  /** The destination instance index in [0, numDestinations). Not called when broadcast. */
  route(value: unknown): number;
}

export interface RouterContext {
  /** The receiving PE's id and input, for error messages. */
  peId: string;
  port: string;
}

/**
 * A router for one edge as seen by one source instance.
 * Shuffle is round-robin starting at the source's own index (dispel4py's
 * ShuffleCommunication), so several sources spread their first items over different
 * destinations; group-by uses `stableHash` of the grouped fields.
 */
export function createRouter(grouping: Grouping, sourceIndex: number, numDestinations: number, context: RouterContext): Router {
  if (numDestinations < 1) throw new RangeError(`${context.peId}: no destination instances`);
  if (grouping === 'all') return { broadcast: true, route: () => 0 };
  if (grouping === 'global' || numDestinations === 1) return { broadcast: false, route: () => 0 };
  if (grouping === 'shuffle') {
    let index = (sourceIndex % numDestinations) - 1;
    return {
      broadcast: false,
      route: () => {
        index = index + 1 === numDestinations ? 0 : index + 1;
        return index;
      },
    };
  }
  const keys = grouping;
  return { broadcast: false, route: (value) => stableHash(groupKey(value, keys, context)) % numDestinations };
}

/** The fields of `value` a group-by grouping looks at (an index into an array, or a key). */
export function groupKey(value: unknown, keys: ReadonlyArray<string | number>, context: RouterContext): unknown[] {
  if (value === null || typeof value !== 'object') {
    throw new InputError(
      `PE ${context.peId} groups input '${context.port}' by ${JSON.stringify(keys)}, but received ${describeType(value)} ${previewValue(value, 80)}; group-by needs arrays or objects`,
      'D4_GROUPING_VALUE',
    );
  }
  const record = value as Record<string | number, unknown>;
  const out = new Array<unknown>(keys.length);
  for (let i = 0; i < keys.length; i++) out[i] = value instanceof Map ? value.get(keys[i]) : record[keys[i]];
  return out;
}

/**
 * FNV-1a (32 bit) over a canonical text of the key. The same key hashes the same in every
 * process, host and run (dispel4py uses Python's salted hash(), which does not).
 */
export function stableHash(key: unknown): number {
  const text = canonical(key);
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

function canonical(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Object.is(value, -0) ? '0' : String(value);
    case 'bigint':
      return `${value}n`;
    case 'boolean':
      return value ? 'true' : 'false';
    case 'undefined':
      return 'null';
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
      if (value instanceof Date) return `D${value.getTime()}`;
      if (value instanceof Map) return canonical(Object.fromEntries(value));
      if (ArrayBuffer.isView(value)) return `B${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64')}`;
      const entries = Object.keys(value as object)
        .sort()
        .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`);
      return `{${entries.join(',')}}`;
    }
    default:
      return String(value);
  }
}

/** Instance ranks of each PE in a fixed mapping: `{peId: [rank, …]}`. */
export interface ProcessAssignment {
  processes: Record<string, number[]>;
  /** Ids of the PEs that take no input from another PE. */
  sources: string[];
  /** Ranks in use (the highest rank plus one). */
  used: number;
}

/**
 * dispel4py's process assignment for fixed mappings. Sources get one instance; a PE with
 * `numprocesses > 1` keeps it; every other PE gets ⌊(size − sources) / (total − sources)⌋
 * where total counts sources once and every other PE by its numprocesses.
 */
export function assignProcesses(graph: WorkflowGraph, size: number): ProcessAssignment {
  if (!Number.isInteger(size) || size < 1) throw new ProcessAssignmentError(`the number of processes must be a whole number of at least 1, got ${size}`, minimumProcesses(graph));
  const pes = graph.pes();
  const fed = new Set(graph.peEdges().map((e) => e.to));
  const sources = pes.filter((pe) => !fed.has(pe));
  const required = minimumProcesses(graph);
  if (required > size) {
    throw new ProcessAssignmentError(
      `the graph is larger than the job size: it needs at least ${required} processes (one per PE, numprocesses where set), but ${size} ${size === 1 ? 'was' : 'were'} given; use -n ${required} or more`,
      required,
    );
  }
  const numSources = sources.length;
  const processes: Record<string, number[]> = {};
  let next = 0;
  for (const pe of pes) {
    const count = fed.has(pe) ? sharedCount(pe, size, numSources, required) : 1;
    processes[pe.id] = Array.from({ length: count }, (_, i) => next + i);
    next += count;
  }
  return { processes, sources: sources.map((pe) => pe.id), used: next };
}

function sharedCount(pe: GenericPE, size: number, numSources: number, total: number): number {
  if (pe.numprocesses > 1) return pe.numprocesses;
  const divisor = Math.max(1, total - numSources);
  return Math.max(1, Math.floor((pe.numprocesses * (size - numSources)) / divisor));
}

/** Processes a fixed mapping needs at the least: one per source, numprocesses per other PE. */
export function minimumProcesses(graph: WorkflowGraph): number {
  const fed = new Set(graph.peEdges().map((e) => e.to));
  return graph.pes().reduce((sum, pe) => sum + (fed.has(pe) ? Math.max(1, pe.numprocesses) : 1), 0);
}
