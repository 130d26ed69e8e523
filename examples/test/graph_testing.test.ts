import { describe, expect, it } from '@jest/globals';
import { CompositePE, GenericPE, WorkflowGraph, createIterativeChain, simpleMapping, type RunOutputs } from '@d4/core';
import { pipelineTest } from '../graph_testing/pipeline_test.js';
import { splitMerge } from '../graph_testing/split_merge.js';
import { teecopy } from '../graph_testing/teecopy.js';
import { producerTee } from '../graph_testing/producer_tee.js';
import { parallelPipeline } from '../graph_testing/parallel_pipeline.js';
import { partitionParallelPipeline } from '../graph_testing/partition_parallel_pipeline.js';
import { pipelineComposite } from '../graph_testing/pipeline_composite.js';
import { unconnectedPipeline } from '../graph_testing/unconnected_pipeline.js';
import { groupingAllToOne } from '../graph_testing/grouping_alltoone.js';
import { groupingAllToOneStateful } from '../graph_testing/grouping_alltoone_stateful.js';
import { groupingOneToAll } from '../graph_testing/grouping_onetoall.js';
import { groupingOneToAllStateful } from '../graph_testing/grouping_onetoall_stateful.js';
import { largeTeecopy } from '../graph_testing/large_teecopy.js';
import { delayedPipeline } from '../graph_testing/delayed_pipeline.js';
import {
  IntegerProducer,
  NumberProducer,
  PrintDataConsumer,
  TestIterative,
  TestMultiProducer,
  TestOneInOneOut,
  TestOneInOneOutWriter,
  TestProducer,
  TestTwoInOneOut,
} from '../graph_testing/testing_pes.js';

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);
const run = async (graph: WorkflowGraph, iterations: number): Promise<RunOutputs> => (await simpleMapping.run(graph, { '*': iterations })).outputs;

describe('graph_testing workflows on simple (-i 3)', () => {
  it('pipeline_test: the last of five pass-through PEs returns 1, 2, 3', async () => {
    expect(await run(pipelineTest(), 3)).toEqual({ TestOneInOneOut5: { output: [1, 2, 3] } });
  });

  it('split_merge: the merge PE gets each number once from each branch, as text', async () => {
    const outputs = await run(splitMerge(), 3);
    expect(Object.keys(outputs)).toEqual(['TestTwoInOneOut3']);
    expect([...(outputs.TestTwoInOneOut3.output as string[])].sort()).toEqual(['1', '1', '2', '2', '3', '3']);
  });

  it('teecopy: both sinks get every item', async () => {
    expect(await run(teecopy(), 3)).toEqual({ TestOneInOneOut1: { output: [1, 2, 3] }, TestOneInOneOut2: { output: [1, 2, 3] } });
  });

  it('producer_tee: sinks at depth one and two both get every item', async () => {
    expect(await run(producerTee(), 3)).toEqual({ TestOneInOneOut2: { output: [1, 2, 3] }, TestOneInOneOut3: { output: [1, 2, 3] } });
  });

  it('parallel_pipeline and its partitioned form give the same results', async () => {
    const expected = { TestOneInOneOut2: { output: [1, 2, 3] }, TestOneInOneOut3: { output: [1, 2, 3] } };
    expect(await run(parallelPipeline(), 3)).toEqual(expected);
    const partitioned = partitionParallelPipeline();
    expect(partitioned.partitions?.map((part) => part.map((pe) => pe.id))).toEqual([['TestProducer0', 'TestOneInOneOut1', 'TestOneInOneOut2'], ['TestOneInOneOut3']]);
    expect(await run(partitioned, 3)).toEqual(expected);
  });

  it('pipeline_composite: (v + 2) * 4 / 2 - 1 through a chain of function PEs', async () => {
    const graph = pipelineComposite();
    expect(graph.pes().map((pe) => pe.id)).toEqual(['TestProducer0', 'PE_addTwo1', 'PE_multiplyByFour2', 'PE_divideByTwo3', 'PE_subtract4']);
    expect(await run(graph, 3)).toEqual({ PE_subtract4: { output: [5, 7, 9] } });
  });

  it('unconnected_pipeline: -i feeds both producers, both sinks return their items', async () => {
    expect(await run(unconnectedPipeline(), 3)).toEqual({ TestOneInOneOut5: { output: [1, 2, 3] }, TestOneInOneOut11: { output: [1, 2, 3] } });
  });

  it('grouping_alltoone (and _stateful): everything reaches the global consumer', async () => {
    for (const graph of [groupingAllToOne(), groupingAllToOneStateful()]) {
      const [, first, second] = graph.pes();
      expect([first.numprocesses, second.numprocesses, second.inputs.get('input')?.grouping]).toEqual([5, 5, 'global']);
      expect(await run(graph, 3)).toEqual({ TestOneInOneOut2: { output: [1, 2, 3] } });
    }
    expect(groupingAllToOne().pes()[0].stateful).toBe(false);
    expect(groupingAllToOneStateful().pes()[0]).toMatchObject({ stateful: true, numprocesses: 1 });
  });

  it("grouping_onetoall (and _stateful): simple runs one instance, which gets each item once", async () => {
    for (const graph of [groupingOneToAll(), groupingOneToAllStateful()]) {
      const consumer = graph.pes()[1];
      expect([consumer.numprocesses, consumer.inputs.get('input')?.grouping]).toEqual([2, 'all']);
      expect(await run(graph, 3)).toEqual({ TestOneInOneOut1: { output: [1, 2, 3] } });
    }
    expect(groupingOneToAll().pes()[0].stateful).toBe(false);
    expect(groupingOneToAllStateful().pes()[0]).toMatchObject({ stateful: true, numprocesses: 1 });
  });

  it('large_teecopy: call k writes [(k + 1) * i] for each i, copied to both sinks', async () => {
    const expected = [...range(0, 10).map((i) => [i]), ...range(0, 10).map((i) => [2 * i])];
    expect(await run(largeTeecopy(), 2)).toEqual({ TestOneInOneOut2: { output: expected }, TestOneInOneOut3: { output: expected } });
    const counts = (await simpleMapping.run(largeTeecopy({ numIterations: 5000 }), { '*': 3 }, { collect: 'count' })).counts;
    expect(counts).toEqual({ TestOneInOneOut2: { output: 15000 }, TestOneInOneOut3: { output: 15000 } });
  });

  it('delayed_pipeline: the delayed PE passes items on and its timer logs the average per call', async () => {
    const logs: string[] = [];
    const result = await simpleMapping.run(delayedPipeline({ delayMs: 5 }), { '*': 3 }, { log: (peId, instance, message) => logs.push(`${peId} (rank ${instance}): ${message}`) });
    expect(result.outputs).toEqual({ TestDelayOneInOneOut2: { output: [1, 2, 3] } });
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatch(/^TestDelayOneInOneOut2 \(rank 0\): Average processing time: \d+\.\d{3} ms over 3 call\(s\)$/);
  });

  it('a graph object runs again from a fresh state (state is set up in preprocess)', async () => {
    const graph = pipelineTest();
    expect(await run(graph, 2)).toEqual({ TestOneInOneOut5: { output: [1, 2] } });
    expect(await run(graph, 2)).toEqual({ TestOneInOneOut5: { output: [1, 2] } });
  });
});

describe('test PEs and patterns (dispel4py simple_process_test)', () => {
  const chainOf = (...pes: GenericPE[]): WorkflowGraph => {
    const graph = new WorkflowGraph();
    for (let i = 1; i < pes.length; i++) graph.connect(pes[i - 1], 'output', pes[i], 'input');
    return graph;
  };

  it('a chain [[add, {b: 1}], [mult, {b: 3}], isOdd] over 2 items gives [false, true]', async () => {
    const add = (a: number, p: { b: number }) => a + p.b;
    const mult = (a: number, p: { b: number }) => a * p.b;
    const isOdd = (a: number) => a % 2 === 1;
    const graph = new WorkflowGraph();
    graph.connect(new TestProducer(), 'output', createIterativeChain([[add, { b: 1 }], [mult, { b: 3 }], isOdd]), 'input');
    expect(await run(graph, 2)).toEqual({ isOdd3: { output: [false, true] } });
  });

  it('a producer with two outputs feeding a merge writes each count twice', async () => {
    const graph = new WorkflowGraph();
    const producer = new TestProducer(2);
    const a = new TestOneInOneOut();
    const b = new TestOneInOneOut();
    const merge = new TestTwoInOneOut();
    graph.connect(producer, 'output0', a, 'input').connect(producer, 'output1', b, 'input');
    graph.connect(a, 'output', merge, 'input0').connect(b, 'output', merge, 'input1');
    expect(await run(graph, 1)).toEqual({ TestTwoInOneOut3: { output: ['1', '1'] } });
  });

  it('the writer, the iterative PE and the multi producer pass on what they get', async () => {
    expect(await run(chainOf(new TestProducer(), new TestOneInOneOutWriter()), 5)).toEqual({ TestOneInOneOutWriter1: { output: range(1, 6) } });
    expect(await run(chainOf(new TestProducer(), new TestIterative()), 25)).toEqual({ TestIterative1: { output: range(1, 26) } });
    expect(await run(chainOf(new TestMultiProducer(4), new TestIterative()), 2)).toEqual({ TestIterative1: { output: [0, 1, 2, 3, 0, 1, 2, 3] } });
  });

  it('IntegerProducer(5, 234) writes 5 … 233 in one call', async () => {
    expect((await simpleMapping.run(chainOf(new IntegerProducer(5, 234), new TestIterative()))).outputs).toEqual({ TestIterative1: { output: range(5, 234) } });
  });

  it('NumberProducer writes [k * i + i] on call k', async () => {
    expect(await run(chainOf(new NumberProducer(3), new TestIterative()), 3)).toEqual({ TestIterative1: { output: [[0], [1], [2], [0], [2], [4], [0], [3], [6]] } });
  });

  it('PrintDataConsumer logs its items and returns nothing', async () => {
    const logged: string[] = [];
    const result = await simpleMapping.run(chainOf(new TestProducer(), new PrintDataConsumer()), { '*': 3 }, { log: (_id, _rank, message) => logged.push(message) });
    expect(result.outputs).toEqual({});
    expect(logged).toEqual(['1', '2', '3']);
  });

  it('a composite connected twice inside carries every item twice', async () => {
    const composite = new CompositePE('Twice');
    const first = new TestOneInOneOut();
    const second = new TestOneInOneOut();
    composite.connect(first, 'output', second, 'input').connect(first, 'output', second, 'input');
    composite.mapInput('compInput', first, 'input').mapOutput('compOutput', second, 'output');
    const graph = new WorkflowGraph();
    graph.connect(new TestProducer(), 'output', composite, 'compInput');
    graph.connect(composite, 'compOutput', new TestOneInOneOut(), 'input');
    expect(await run(graph, 3)).toEqual({ TestOneInOneOut3: { output: [1, 1, 2, 2, 3, 3] } });
  });
});
