import { availableParallelism } from 'node:os';
import { describe, expect, it } from '@jest/globals';
import { loadWorkflow } from '@d4/core';
import { launchSize } from '../src/launch/ranks.js';
import { graphTesting } from './helpers.js';

const pipeline = () => loadWorkflow(`${graphTesting}pipeline_test.ts`);
const inputs = { '*': 10 };

describe('how many ranks d4 starts for a run it launches', () => {
  it('by default one rank per -n, as mpiexec -n N would start', async () => {
    expect(launchSize(await pipeline(), inputs, { numProcesses: 6 })).toEqual({ size: 6, ranks: 6 });
    expect(launchSize(await pipeline(), inputs, { numProcesses: 8 })).toEqual({ size: 8, ranks: 8 });
    expect(launchSize(await pipeline(), inputs, {})).toEqual({ size: Math.max(6, availableParallelism()), ranks: Math.max(6, availableParallelism()) });
  });

  it('--processes chooses, between the most instances of one PE and one rank per instance', async () => {
    expect(launchSize(await pipeline(), inputs, { numProcesses: 6, processes: 3 })).toEqual({ size: 6, ranks: 3 });
    expect(launchSize(await pipeline(), inputs, { numProcesses: 6, processes: 40 })).toEqual({ size: 6, ranks: 6 });
    expect(launchSize(await pipeline(), inputs, { numProcesses: 6, processes: 2, partitioned: true })).toEqual({ size: 6, ranks: 2 });
    // -n 12: two instances of each PE, which never share a rank.
    expect(launchSize(await pipeline(), inputs, { numProcesses: 12, processes: 1 })).toEqual({ size: 12, ranks: 2 });
  });

  it('a bad --processes is refused before mpiexec starts', async () => {
    let error: unknown;
    try {
      launchSize(await pipeline(), inputs, { numProcesses: 6, processes: 0 });
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'D4_OPTION', message: 'option processes must be a whole number of at least 1, got 0' });
  });
});
