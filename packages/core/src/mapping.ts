import { OptionError } from './errors.js';
import type { WorkflowGraph } from './graph.js';
import type { InputSpec } from './inputs.js';
import type { LogFn } from './pe.js';

/** Values written to unconnected output ports: `{peId: {port: values[]}}`. */
export type RunOutputs = Record<string, Record<string, unknown[]>>;
/** How many values each unconnected port received: `{peId: {port: n}}`. */
export type RunOutputCounts = Record<string, Record<string, number>>;

export interface PEStats {
  /** Instances that ran the PE. */
  instances: number;
  /** process() calls, over all instances. */
  calls: number;
  /** Values the PE wrote, over all instances. */
  writes: number;
  /** Time spent in process(), in ms (sampled: a share of calls is timed and scaled). */
  processMs: number;
}

export interface RunStats {
  mapping: string;
  /** Wall time of the run, from start to the last item's end, in ms. */
  elapsedMs: number;
  pes: Record<string, PEStats>;
  /** Mapping-specific figures (workers over time, duplicates, …). */
  [extra: string]: unknown;
}

export interface RunResult {
  outputs: RunOutputs;
  counts: RunOutputCounts;
  stats: RunStats;
}

/** Live counters a mapping keeps up to date, for progress lines. */
export interface RunProgress {
  /** process() calls so far per PE id. */
  calls: Record<string, number>;
}

/** Options every mapping takes; mappings add their own (declared in `Mapping.options`). */
export interface RunOptions {
  /** 'values' (default) keeps every unconnected output; 'count' only counts them. */
  collect?: 'values' | 'count';
  /** Called for each value written to an unconnected output, as it arrives. */
  onOutput?: (peId: string, port: string, value: unknown) => void;
  /** Where PEs' log() goes. Default: stderr. */
  log?: LogFn;
  /** Extra lines about the run (workers, scaling) on stderr. */
  verbose?: boolean;
  /** Updated while the run goes, for a progress display. */
  progress?: RunProgress;
  /**
   * `simple` only (default true): every value a PE writes is checked as the codec would carry
   * it across a boundary: a function or symbol fails the run with D4_CODEC, a class instance
   * arrives as a plain object, as on every other mapping. false passes values by reference
   * (CLI: --no-strict), faster for large objects but a graph may then work on simple only.
   */
  strict?: boolean;
  /** Aborts the run: workers are stopped and run() rejects. */
  signal?: AbortSignal;
  [option: string]: unknown;
}

/** A mapping's own option, for the CLI and `d4 list`. */
export interface MappingOption {
  /** Property name in RunOptions, e.g. 'numProcesses'. */
  name: string;
  /** commander flags, e.g. '-n, --num <n>'. */
  flags: string;
  description: string;
  type: 'number' | 'string' | 'boolean';
  default?: unknown;
  /** Environment variable read when the option is not given (e.g. REDIS_URL). */
  env?: string;
}

/**
 * Where a graph came from, so that a worker in another thread, process or host can
 * rebuild it: code never crosses a boundary, the module path does.
 */
export interface WorkflowSource {
  /** Absolute path (or file: URL, or package specifier) of the module. */
  module: string;
  /** The export that holds the graph or its factory. */
  exportName: string;
  /** JSON arguments for a factory export. */
  args?: unknown;
}

/** A graph with the module it can be rebuilt from. */
export interface LoadedWorkflow {
  graph: WorkflowGraph;
  source?: WorkflowSource;
}

export type WorkflowInput = WorkflowGraph | LoadedWorkflow;

/**
 * The contract of every mapping. `run` validates everything (options, graph, inputs,
 * servers) before any work starts, and resolves only when the last item is processed.
 */
export interface Mapping {
  readonly name: string;
  readonly description: string;
  /** Whether it runs stateful PEs (groupings, the stateful flag). */
  readonly stateful: boolean;
  readonly options: readonly MappingOption[];
  run(workflow: WorkflowInput, inputs?: InputSpec, options?: RunOptions): Promise<RunResult>;
  /** Joins a running job from another process or host (`d4 worker`), where supported. */
  worker?(options: Record<string, unknown>): Promise<void>;
}

export function asLoadedWorkflow(workflow: WorkflowInput): LoadedWorkflow {
  return isWorkflowGraph(workflow) ? { graph: workflow } : workflow;
}

/** Brand check that works across copies of @d4/core (a user's and the CLI's). */
export function isWorkflowGraph(value: unknown): value is WorkflowGraph {
  return value !== null && typeof value === 'object' && (value as Record<symbol, unknown>)[Symbol.for('d4.WorkflowGraph')] === true;
}

/** Reads a whole-number option, refusing anything else with the option's name. */
export function intOption(options: RunOptions, name: string, fallback: number, min = 1): number {
  const value = options[name];
  if (value === undefined || value === null) return fallback;
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min) {
    throw new OptionError(`option ${name} must be a whole number of at least ${min}, got ${JSON.stringify(value)}`);
  }
  return n;
}
