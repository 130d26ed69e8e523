import { describe, expect, it } from '@jest/globals';
import { ProducerPE, WorkflowGraph, simpleMapping, type GenericPE, type RunOutputs } from '@d4/core';
import {
  GlobalAggregatePE,
  PartialAggregatePE,
  allAggregatesGraph,
  avgGraph,
  countGraph,
  maxGraph,
  minGraph,
  parallelMax,
  parallelMin,
  parallelStdDev,
  parallelSum,
  stdDevGraph,
  sumGraph,
  type Aggregator,
} from '../graph_testing/aggregates.js';
import { TestProducer } from '../graph_testing/testing_pes.js';

const run = async (graph: WorkflowGraph): Promise<RunOutputs> => (await simpleMapping.run(graph)).outputs;

/** Sample standard deviation from its definition: sqrt(Σ(x - mean)² / (n - 1)). */
function sampleStdDev(values: number[]): number {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const squares = values.reduce((sum, x) => sum + (x - mean) ** 2, 0);
  return Math.sqrt(squares / (values.length - 1));
}

/** A root that writes the given items in one call. */
class Items extends ProducerPE {
  constructor(private readonly items: unknown[]) {
    super('Items');
  }
  _process(): undefined {
    for (const item of this.items) this.write('output', item);
    return undefined;
  }
}

function over(items: unknown[], composite: ReturnType<typeof parallelSum>): WorkflowGraph {
  const graph = new WorkflowGraph();
  graph.connect(new Items(items), 'output', composite, 'input');
  return graph;
}

describe('parallel aggregates over 0 … 999 on simple', () => {
  const numbers = Array.from({ length: 1000 }, (_, i) => i);

  it('sum 499500, average 499.5, min 0, max 999, count 1000', async () => {
    expect(await run(sumGraph())).toEqual({ SumPE2: { output: [499500] } });
    expect(await run(avgGraph())).toEqual({ AverageReducePE2: { output: [499.5] } });
    expect(await run(minGraph())).toEqual({ MinPE2: { output: [0] } });
    expect(await run(maxGraph())).toEqual({ MaxPE2: { output: [999] } });
    expect(await run(countGraph())).toEqual({ CountReduce2: { output: [1000] } });
  });

  it('standard deviation matches the definition', async () => {
    const outputs = await run(stdDevGraph());
    expect(Object.keys(outputs)).toEqual(['StdDevReducePE2']);
    const [value] = outputs.StdDevReducePE2.output as number[];
    expect(value).toBeCloseTo(sampleStdDev(numbers), 10);
  });

  it('the default graph computes all six side by side from one producer', async () => {
    const outputs = await run(allAggregatesGraph({ start: 10, limit: 20 }));
    const tens = Array.from({ length: 10 }, (_, i) => 10 + i);
    expect(outputs).toEqual({
      SumPE2: { output: [145] },
      CountReduce4: { output: [10] },
      MinPE6: { output: [10] },
      MaxPE8: { output: [19] },
      AverageReducePE10: { output: [14.5] },
      StdDevReducePE12: { output: [expect.closeTo(sampleStdDev(tens), 10)] },
    });
  });

  it('each aggregate is a composite: a partial, then a global combiner with one instance', () => {
    const graph = sumGraph();
    const [, partial, combiner] = graph.pes();
    expect(partial).toBeInstanceOf(PartialAggregatePE);
    expect(combiner).toBeInstanceOf(GlobalAggregatePE);
    expect(partial.inputs.get('input')?.grouping).toBe('shuffle');
    expect(combiner.inputs.get('input')?.grouping).toBe('global');
    expect(combiner.numprocesses).toBe(1);
    expect(graph.toDot()).toContain('label="ParallelSum0"');
  });

  it('reads elements of tuples when given indexes, and counts items from a TestProducer', async () => {
    const pairs = numbers.map((n) => [n, 5 - 2 * n]);
    expect(await run(over(pairs, parallelSum([0, 1])))).toEqual({ SumPE2: { output: [[499500, -994000]] } });
    expect(await run(over(pairs, parallelMin([1, 0])))).toEqual({ MinPE2: { output: [[-1993, 0]] } });
    expect(await run(over(pairs, parallelMax([1])))).toEqual({ MaxPE2: { output: [[5]] } });
    const graph = new WorkflowGraph();
    graph.connect(new TestProducer(), 'output', parallelStdDev(), 'input');
    const outputs = (await simpleMapping.run(graph, { '*': 7 })).outputs;
    expect(outputs.StdDevReducePE2.output).toEqual([expect.closeTo(sampleStdDev([1, 2, 3, 4, 5, 6, 7]), 12)]);
  });

  it('writes nothing where the result is undefined: min of nothing, std dev of one item', async () => {
    expect(await run(minGraph({ start: 5, limit: 5 }))).toEqual({});
    expect(await run(avgGraph({ start: 5, limit: 5 }))).toEqual({});
    expect(await run(stdDevGraph({ start: 5, limit: 6 }))).toEqual({});
    expect(await run(sumGraph({ start: 5, limit: 5 }))).toEqual({ SumPE2: { output: [0] } });
    expect(await run(countGraph({ start: 5, limit: 5 }))).toEqual({ CountReduce2: { output: [0] } });
  });

  it('fails the run naming the PE when an item is not a number', async () => {
    await expect(run(over([1, 'two'], parallelSum()))).rejects.toMatchObject({ code: 'D4_PE_FAILED', message: expect.stringContaining('SumPE1') });
  });
});

describe('partials merged as a parallel mapping would', () => {
  // Split the items unevenly over three "instances", fold each, merge the partials: the
  // combined result must equal the single-instance result.
  const items = Array.from({ length: 1000 }, (_, i) => (i * 37) % 1001);
  const slices = [items.slice(0, 1), items.slice(1, 400), items.slice(400)];
  const aggregatorOf = (graph: WorkflowGraph): Aggregator<unknown> => (graph.pes()[1] as PartialAggregatePE<unknown>).aggregator;
  const fold = (aggregator: Aggregator<unknown>, values: number[]) => values.reduce((state, x) => aggregator.add(state, x), aggregator.empty());

  it.each([
    ['sum', sumGraph],
    ['count', countGraph],
    ['min', minGraph],
    ['max', maxGraph],
    ['avg', avgGraph],
    ['stdDev', stdDevGraph],
  ])('%s', (_name, factory) => {
    const aggregator = aggregatorOf(factory());
    const whole = aggregator.result(fold(aggregator, items));
    const merged = aggregator.result(slices.map((slice) => fold(aggregator, slice)).reduce((state, partial) => aggregator.merge(state, partial), aggregator.empty()));
    if (typeof whole === 'number' && !Number.isInteger(whole)) expect(merged).toBeCloseTo(whole, 9);
    else expect(merged).toEqual(whole);
  });

  it('the merged standard deviation still matches the definition', () => {
    const aggregator = aggregatorOf(stdDevGraph());
    const merged = slices.map((slice) => fold(aggregator, slice)).reduce((state, partial) => aggregator.merge(state, partial), aggregator.empty());
    expect(aggregator.result(merged)).toBeCloseTo(sampleStdDev(items), 9);
  });

  it('the partial of an instance that received nothing writes nothing', async () => {
    const partial = sumGraph().pes()[1] as GenericPE;
    const written: unknown[] = [];
    partial._write = (_port, value) => written.push(value);
    await partial.preprocess();
    await partial.postprocess();
    expect(written).toEqual([]);
  });
});
