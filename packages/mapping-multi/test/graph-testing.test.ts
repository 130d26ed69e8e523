import { describe, expect, it } from '@jest/globals';
import { fileURLToPath } from 'node:url';
import { checkExceptions, checkOneToAll, checkSameAsSimple, checkWordCountFilter, graphTestingSameAsSimple } from '@d4/runtime/conformance';
import { mappings } from '../src/index.js';

/**
 * dispel4py's graph_testing workflows (examples/graph_testing) give the same results under
 * `multi` as under `simple`, run with the default -n (the CPU cores, or what the graph
 * needs) and in partitioned mode (-s).
 */
const dir = fileURLToPath(new URL('../../../examples/graph_testing/', import.meta.url));

describe('graph_testing under multi', () => {
  for (const name of graphTestingSameAsSimple) {
    it(`${name}: same outputs as simple`, async () => {
      expect(await checkSameAsSimple(mappings.multi, dir, name, [{}, { simple: true, numProcesses: 8 }])).toEqual([]);
    });
  }

  it('grouping_onetoall: each of the 2 instances gets its own copy of every item', async () => {
    expect(await checkOneToAll(mappings.multi, dir)).toEqual([]);
  });

  it('word_count_filter: every word is counted at one counter instance, with no count skipped', async () => {
    expect(await checkWordCountFilter(mappings.multi, dir)).toEqual([]);
  });

  it('test_exceptions and uncaught_exception_test fail the run with the PE and the phase', async () => {
    expect(await checkExceptions(mappings.multi, dir)).toEqual([]);
  });
});
