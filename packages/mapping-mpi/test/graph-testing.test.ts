import { describe, expect, it } from '@jest/globals';
import { loadWorkflow, simpleMapping } from '@d4/core';
import { checkExceptions, checkOneToAll, checkSameAsSimple, checkWordCountFilter, compareOutputs, graphTestingSameAsSimple } from '@d4/runtime/conformance';
import { mappings } from '../src/index.js';
import { graphTesting } from './helpers.js';

/**
 * dispel4py's graph_testing workflows (examples/graph_testing) give the same results under
 * `mpi` as under `simple`: with the default -n (the CPU cores, or what the graph needs) and in
 * partitioned mode (-s, on 3 ranks).
 */
const dir = graphTesting;

describe('graph_testing under mpi', () => {
  for (const name of graphTestingSameAsSimple.filter((name) => name !== 'sieveoferatosthenes')) {
    it(`${name}: same outputs as simple`, async () => {
      expect(await checkSameAsSimple(mappings.mpi, dir, name, [{}, { partitioned: true, numProcesses: 3 }])).toEqual([]);
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
    expect(await checkOneToAll(mappings.mpi, dir)).toEqual([]);
  });

  it('word_count_filter: every word is counted at one counter instance, with no count skipped', async () => {
    expect(await checkWordCountFilter(mappings.mpi, dir)).toEqual([]);
  });

  it('test_exceptions and uncaught_exception_test fail the run with the PE and the phase', async () => {
    expect(await checkExceptions(mappings.mpi, dir)).toEqual([]);
  });
});
