/**
 * Aggregates as composite PEs that parallelise as map-reduce (dispel4py's aggregate PEs):
 * a partial aggregate runs in as many instances as the mapping gives it, each folding the
 * items it receives, and writes its partial result once, when it ends; a combiner with a
 * 'global' input (one instance) merges the partials and writes the result.
 *
 *   npx d4 run simple examples/graph_testing/aggregates.ts
 *   → every aggregate of 0 … 999: {SumPE2: {output: [499500]}, CountReduce4: {output: [1000]},
 *     MinPE6: {output: [0]}, MaxPE8: {output: [999]}, AverageReducePE10: {output: [499.5]},
 *     StdDevReducePE12: {output: [288.8194…]}}
 *   npx d4 run simple examples/graph_testing/aggregates.ts -a avg   → {AverageReducePE2: {output: [499.5]}}
 *   npx d4 run multi examples/graph_testing/aggregates.ts -a sum -n 4
 *   npx d4 run simple examples/graph_testing/aggregates.ts -a sumGraph --args '{"start": 1, "limit": 101}'   → 5050
 *
 * Graphs: sum, count, min, max, avg, stdDev (and the default with all six); factories
 * sumGraph({start, limit}) … build them over another range. Composites: parallelSum(),
 * parallelCount(), parallelMin(), parallelMax(), parallelAvg(), parallelStdDev().
 */
import { CompositePE, GenericPE, WorkflowGraph, type PEInputs, type PEOutputs } from '@d4/core';
import { intArg } from './args.js';
import { IntegerProducer } from './testing_pes.js';

/**
 * One aggregate: how a partial folds items, how partials merge, and the final value
 * (undefined: nothing to write, e.g. the minimum of no items). States are plain data, as
 * partials cross process boundaries.
 */
export interface Aggregator<S> {
  empty(): S;
  add(state: S, item: unknown): S;
  merge(state: S, partial: S): S;
  result(state: S): unknown;
}

/** Folds the items one instance receives; writes its state once, when the instance ends. */
export class PartialAggregatePE<S> extends GenericPE {
  private state: S;
  private seen = false;

  constructor(
    name: string,
    readonly aggregator: Aggregator<S>,
  ) {
    super(name);
    this.addInput('input').addOutput('output');
    this.state = aggregator.empty();
  }

  override preprocess(): void {
    this.state = this.aggregator.empty();
    this.seen = false;
  }

  process(inputs: PEInputs): PEOutputs {
    this.state = this.aggregator.add(this.state, inputs.input);
    this.seen = true;
  }

  override postprocess(): void {
    // An instance that received nothing has nothing to contribute.
    if (this.seen) this.write('output', this.state);
  }
}

/** Merges the partials, all sent to instance 0, and writes the result when it ends. */
export class GlobalAggregatePE<S> extends GenericPE {
  private state: S;

  constructor(
    name: string,
    readonly aggregator: Aggregator<S>,
  ) {
    super(name);
    this.addInput('input', { grouping: 'global' }).addOutput('output');
    this.numprocesses = 1;
    this.state = aggregator.empty();
  }

  override preprocess(): void {
    this.state = this.aggregator.empty();
  }

  process(inputs: PEInputs): PEOutputs {
    this.state = this.aggregator.merge(this.state, inputs.input as S);
  }

  override postprocess(): void {
    if (this.instance !== 0) return;
    const value = this.aggregator.result(this.state);
    if (value !== undefined) this.write('output', value);
  }
}

/** A composite with input 'input' and output 'output': partial → global combiner. */
export function parallelAggregate<S>(name: string, partial: PartialAggregatePE<S>, global: GlobalAggregatePE<S>): CompositePE {
  const composite = new CompositePE(name);
  composite.connect(partial, 'output', global, 'input');
  composite.mapInput('input', partial, 'input');
  composite.mapOutput('output', global, 'output');
  return composite;
}

function numberAt(item: unknown, index: number | undefined): number {
  const value = index === undefined ? item : (item as unknown[] | null)?.[index];
  if (typeof value !== 'number') {
    const where = index === undefined ? 'each item' : `element ${index} of each item`;
    throw new TypeError(`an aggregate expects a number as ${where}, got ${JSON.stringify(item)}`);
  }
  return value;
}

/**
 * The numbers an item contributes: the item itself when no indexes are given, else its
 * elements at `indexes` (dispel4py's aggregates read tuples).
 */
function numbersOf(item: unknown, indexes: readonly number[] | undefined): number[] {
  return indexes === undefined ? [numberAt(item, undefined)] : indexes.map((i) => numberAt(item, i));
}

/** Element-wise aggregates (sum, min, max): one number per index, or one number. */
function elementwise(combine: (a: number, b: number) => number, identity: number | undefined, indexes?: readonly number[]): Aggregator<Array<number | null>> {
  const width = indexes?.length ?? 1;
  const fold = (state: Array<number | null>, values: ReadonlyArray<number | null>) =>
    state.map((a, k) => (a === null ? values[k] : values[k] === null ? a : combine(a, values[k]!)));
  return {
    empty: () => new Array<number | null>(width).fill(identity ?? null),
    add: (state, item) => fold(state, numbersOf(item, indexes)),
    merge: fold,
    result: (state) => {
      if (state.some((v) => v === null)) return undefined;
      return indexes === undefined ? state[0] : state;
    },
  };
}

/** Sum of the items (or of their elements at `indexes`, giving a list of sums). */
export function parallelSum(indexes?: number[]): CompositePE {
  const aggregate = elementwise((a, b) => a + b, 0, indexes);
  return parallelAggregate('ParallelSum', new PartialAggregatePE('SumPE', aggregate), new GlobalAggregatePE('SumPE', aggregate));
}

/** Smallest item (or smallest element at each of `indexes`); nothing for no items. */
export function parallelMin(indexes?: number[]): CompositePE {
  const aggregate = elementwise(Math.min, undefined, indexes);
  return parallelAggregate('ParallelMin', new PartialAggregatePE('MinPE', aggregate), new GlobalAggregatePE('MinPE', aggregate));
}

/** Largest item (or largest element at each of `indexes`); nothing for no items. */
export function parallelMax(indexes?: number[]): CompositePE {
  const aggregate = elementwise(Math.max, undefined, indexes);
  return parallelAggregate('ParallelMax', new PartialAggregatePE('MaxPE', aggregate), new GlobalAggregatePE('MaxPE', aggregate));
}

/** Number of items: partials count, the combiner sums the counts. */
export function parallelCount(): CompositePE {
  const aggregate: Aggregator<number> = {
    empty: () => 0,
    add: (count) => count + 1,
    merge: (count, partial) => count + partial,
    result: (count) => count,
  };
  return parallelAggregate('ParallelCount', new PartialAggregatePE('CountPE', aggregate), new GlobalAggregatePE('CountReduce', aggregate));
}

interface MeanState {
  count: number;
  sum: number;
}

/** Arithmetic mean of the items (or of element `index`); nothing for no items. */
export function parallelAvg(index?: number): CompositePE {
  const aggregate: Aggregator<MeanState> = {
    empty: () => ({ count: 0, sum: 0 }),
    add: (s, item) => ({ count: s.count + 1, sum: s.sum + numberAt(item, index) }),
    merge: (s, p) => ({ count: s.count + p.count, sum: s.sum + p.sum }),
    result: (s) => (s.count === 0 ? undefined : s.sum / s.count),
  };
  return parallelAggregate('ParallelAvg', new PartialAggregatePE('AverageParallelPE', aggregate), new GlobalAggregatePE('AverageReducePE', aggregate));
}

/** Count, mean and sum of squared deviations from the mean (Welford's running form). */
interface VarianceState {
  count: number;
  mean: number;
  m2: number;
}

/**
 * Sample standard deviation (divisor n - 1, as dispel4py) of the items or of element
 * `index`; nothing for fewer than two items. Partials keep Welford's running mean and
 * squared deviations and the combiner merges them with Chan's formula, which stays exact
 * where a sum of squares would lose precision.
 */
export function parallelStdDev(index?: number): CompositePE {
  const aggregate: Aggregator<VarianceState> = {
    empty: () => ({ count: 0, mean: 0, m2: 0 }),
    add: (s, item) => {
      const x = numberAt(item, index);
      const count = s.count + 1;
      const delta = x - s.mean;
      const mean = s.mean + delta / count;
      return { count, mean, m2: s.m2 + delta * (x - mean) };
    },
    merge: (s, p) => {
      if (p.count === 0) return s;
      if (s.count === 0) return { ...p };
      const count = s.count + p.count;
      const delta = p.mean - s.mean;
      return { count, mean: s.mean + (delta * p.count) / count, m2: s.m2 + p.m2 + (delta * delta * s.count * p.count) / count };
    },
    result: (s) => (s.count < 2 ? undefined : Math.sqrt(s.m2 / (s.count - 1))),
  };
  return parallelAggregate('ParallelStdDev', new PartialAggregatePE('StdDevPE', aggregate), new GlobalAggregatePE('StdDevReducePE', aggregate));
}

/** Factories of the composites, by the short names the graphs below use. */
export const AGGREGATES = {
  sum: () => parallelSum(),
  count: () => parallelCount(),
  min: () => parallelMin(),
  max: () => parallelMax(),
  avg: () => parallelAvg(),
  stdDev: () => parallelStdDev(),
} as const;

export type AggregateName = keyof typeof AGGREGATES;

interface RangeArgs {
  start?: number;
  limit?: number;
}

/** The integers start … limit-1 (default 0 … 999), written by one producer call, into the given aggregates. */
export function aggregatesGraph(names: readonly AggregateName[], args?: RangeArgs): WorkflowGraph {
  const start = intArg(args, 'start', 0);
  const limit = intArg(args, 'limit', 1000);
  const graph = new WorkflowGraph();
  const producer = new IntegerProducer(start, limit);
  graph.add(producer);
  for (const name of names) graph.connect(producer, 'output', AGGREGATES[name](), 'input');
  return graph;
}

export const sumGraph = (args?: RangeArgs): WorkflowGraph => aggregatesGraph(['sum'], args);
export const countGraph = (args?: RangeArgs): WorkflowGraph => aggregatesGraph(['count'], args);
export const minGraph = (args?: RangeArgs): WorkflowGraph => aggregatesGraph(['min'], args);
export const maxGraph = (args?: RangeArgs): WorkflowGraph => aggregatesGraph(['max'], args);
export const avgGraph = (args?: RangeArgs): WorkflowGraph => aggregatesGraph(['avg'], args);
export const stdDevGraph = (args?: RangeArgs): WorkflowGraph => aggregatesGraph(['stdDev'], args);
/** Every aggregate of the same numbers, side by side. */
export const allAggregatesGraph = (args?: RangeArgs): WorkflowGraph => aggregatesGraph(Object.keys(AGGREGATES) as AggregateName[], args);

export const sum = sumGraph();
export const count = countGraph();
export const min = minGraph();
export const max = maxGraph();
export const avg = avgGraph();
export const stdDev = stdDevGraph();

export default allAggregatesGraph();
