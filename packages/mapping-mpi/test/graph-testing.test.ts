import { describe, expect, it } from '@jest/globals';
import { loadWorkflow, simpleMapping } from '@d4/core';
import { compareOutputs } from '@d4/runtime/conformance';
import { mappings } from '../src/index.js';
import { graphTesting } from './helpers.js';

/**
 * dispel4py's graph_testing workflows (examples/graph_testing) give the same results under
 * `mpi` as under `simple`: with the default -n (the CPU cores, or what the graph needs) and in
 * partitioned mode (-s, on 3 ranks).
 */
const load = (name: string) => loadWorkflow(`${graphTesting}${name}.ts`);

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
];

describe('graph_testing under mpi', () => {
  for (const name of SAME) {
    it(`${name}: same outputs as simple`, async () => {
      const expected = await simpleMapping.run(await load(name), { '*': 5 });
      const fixed = await mappings.mpi.run(await load(name), { '*': 5 });
      expect(compareOutputs(expected.outputs, fixed.outputs)).toEqual([]);
      const partitioned = await mappings.mpi.run(await load(name), { '*': 5 }, { partitioned: true, numProcesses: 3 });
      expect(compareOutputs(expected.outputs, partitioned.outputs)).toEqual([]);
    }, 120_000);
  }

  it('sieveoferatosthenes (12 dividers, one rank each: the default 198 would start 200 Node processes): the primes below 40', async () => {
    const sieve = () => loadWorkflow(`${graphTesting}sieveoferatosthenes.ts`, { exportName: 'sieve', args: { limit: 40, dividers: 12 } });
    const expected = await simpleMapping.run(await sieve(), {});
    expect(expected.outputs.PrimeCollector2.output).toEqual([2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37]);
    const fixed = await mappings.mpi.run(await sieve(), {});
    expect(compareOutputs(expected.outputs, fixed.outputs)).toEqual([]);
  }, 120_000);

  it('grouping_onetoall: each of the 2 instances gets its own copy of every item', async () => {
    const result = await mappings.mpi.run(await load('grouping_onetoall'), { '*': 5 });
    expect(result.stats.pes.TestOneInOneOut1.instances).toBe(2);
    expect((result.outputs.TestOneInOneOut1.output as number[]).sort()).toEqual([1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
  });

  it('word_count_filter: every word is counted at one counter instance, with no count skipped', async () => {
    const result = await mappings.mpi.run(await load('word_count_filter'), { '*': 40 });
    const counts = new Map<string, number[]>();
    for (const [word, n] of result.outputs.WordCounter2.output as Array<[string, number]>) (counts.get(word) ?? counts.set(word, []).get(word)!).push(n);
    expect(counts.size).toBeGreaterThan(0);
    for (const [word, seen] of counts) expect({ word, seen: seen.sort((a, b) => a - b) }).toEqual({ word, seen: seen.map((_, i) => i + 1) });
  });

  it('test_exceptions and uncaught_exception_test fail the run with the PE and the phase', async () => {
    await expect(mappings.mpi.run(await load('test_exceptions'), { '*': 2 })).rejects.toMatchObject({ code: 'D4_PE_FAILED', peId: 'ExceptionRaiser1', phase: 'process' });
    await expect(mappings.mpi.run(await load('uncaught_exception_test'), { '*': 3 })).rejects.toMatchObject({ code: 'D4_PE_FAILED', peId: 'ExceptionRaiser1', phase: 'postprocess' });
  });
});
