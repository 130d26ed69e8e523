import { describe, expect, it } from '@jest/globals';
import { fileURLToPath } from 'node:url';
import { loadWorkflow, simpleMapping } from '@d4/core';
import { compareOutputs } from '@d4/runtime/conformance';
import { mappings } from '../src/index.js';

/**
 * dispel4py's graph_testing workflows (examples/graph_testing) give the same results under
 * `zmq_multi` as under `simple`, run with the default -n (the CPU cores, or what the graph
 * needs) and in partitioned mode (-s), every item crossing worker processes over ipc://.
 */
const dir = fileURLToPath(new URL('../../../examples/graph_testing/', import.meta.url));
const load = (name: string) => loadWorkflow(`${dir}${name}.ts`);

const SAME = [
  'pipeline_test',
  'split_merge',
  'teecopy',
  'producer_tee',
  'parallel_pipeline',
  'partition_parallel_pipeline',
  'pipeline_composite',
  'grouping_alltoone',
  'grouping_alltoone_stateful',
  'group_by',
  'group_by_stateful',
  'grouping_split_merge',
  'word_count',
  'large_teecopy',
  'aggregates',
  'multi_producer',
  'loopcopy',
  'sieveoferatosthenes',
];

describe('graph_testing under zmq_multi', () => {
  for (const name of SAME) {
    it(`${name}: same outputs as simple`, async () => {
      const expected = await simpleMapping.run(await load(name), { '*': 5 });
      const fixed = await mappings.zmq_multi.run(await load(name), { '*': 5 });
      expect(compareOutputs(expected.outputs, fixed.outputs)).toEqual([]);
      const partitioned = await mappings.zmq_multi.run(await load(name), { '*': 5 }, { partitioned: true, numProcesses: 8 });
      expect(compareOutputs(expected.outputs, partitioned.outputs)).toEqual([]);
    });
  }

  it('grouping_onetoall: each of the 2 instances gets its own copy of every item', async () => {
    const result = await mappings.zmq_multi.run(await load('grouping_onetoall'), { '*': 5 });
    expect(result.stats.pes.TestOneInOneOut1.instances).toBe(2);
    expect((result.outputs.TestOneInOneOut1.output as number[]).sort()).toEqual([1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
  });

  it('word_count_filter: every word is counted at one counter instance, with no count skipped', async () => {
    const result = await mappings.zmq_multi.run(await load('word_count_filter'), { '*': 40 });
    const counts = new Map<string, number[]>();
    for (const [word, n] of result.outputs.WordCounter2.output as Array<[string, number]>) (counts.get(word) ?? counts.set(word, []).get(word)!).push(n);
    expect(counts.size).toBeGreaterThan(0);
    for (const [word, seen] of counts) expect({ word, seen: seen.sort((a, b) => a - b) }).toEqual({ word, seen: seen.map((_, i) => i + 1) });
  });

  it('test_exceptions and uncaught_exception_test fail the run with the PE and the phase', async () => {
    await expect(mappings.zmq_multi.run(await load('test_exceptions'), { '*': 2 })).rejects.toMatchObject({ code: 'D4_PE_FAILED', peId: 'ExceptionRaiser1', phase: 'process' });
    await expect(mappings.zmq_multi.run(await load('uncaught_exception_test'), { '*': 3 })).rejects.toMatchObject({ code: 'D4_PE_FAILED', peId: 'ExceptionRaiser1', phase: 'postprocess' });
  });
});
