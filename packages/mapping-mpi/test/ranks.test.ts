import { availableParallelism } from 'node:os';
import { describe, expect, it } from '@jest/globals';
import { loadWorkflow } from '@d4/core';
import { launchSize } from '../src/launch/ranks.js';
import { graphTesting } from './helpers.js';

const pipeline = () => loadWorkflow(`${graphTesting}pipeline_test.ts`);
const inputs = { '*': 10 };
const here = {};

describe('how many ranks d4 starts for a run it launches', () => {
  it('on this host alone: one rank per core, at most one per PE instance', async () => {
    // pipeline_test -n 6: six instances of six PEs, so any number of ranks from 1 can host them.
    expect(launchSize(await pipeline(), inputs, { numProcesses: 6 }, here)).toEqual({ size: 6, ranks: Math.min(6, availableParallelism()) });
    expect(launchSize(await pipeline(), inputs, { numProcesses: 6, partitioned: true }, here)).toEqual({ size: 6, ranks: Math.min(2, availableParallelism()) });
  });

  it('--processes chooses, between the most instances of one PE and one rank per instance', async () => {
    expect(launchSize(await pipeline(), inputs, { numProcesses: 6, processes: 3 }, here)).toEqual({ size: 6, ranks: 3 });
    expect(launchSize(await pipeline(), inputs, { numProcesses: 6, processes: 40 }, here)).toEqual({ size: 6, ranks: 6 });
    // -n 12: two instances of each PE, which never share a rank.
    expect(launchSize(await pipeline(), inputs, { numProcesses: 12, processes: 1 }, here)).toEqual({ size: 12, ranks: 2 });
  });

  it('where the user placed the ranks (a hostfile, --host, a SLURM allocation): one rank per -n', async () => {
    expect(launchSize(await pipeline(), inputs, { numProcesses: 6, hostfile: 'hosts.txt' }, here)).toEqual({ size: 6, ranks: 6 });
    expect(launchSize(await pipeline(), inputs, { numProcesses: 6, mpiexecArgs: '--mca btl tcp,self --host a:3,b:3' }, here)).toEqual({ size: 6, ranks: 6 });
    expect(launchSize(await pipeline(), inputs, { numProcesses: 6 }, { SLURM_JOB_ID: '7' })).toEqual({ size: 6, ranks: 6 });
    expect(launchSize(await pipeline(), inputs, { numProcesses: 6, processes: 2 }, { SLURM_JOB_ID: '7' })).toEqual({ size: 6, ranks: 2 });
  });

  it('a bad --processes is refused before mpiexec starts', async () => {
    let error: unknown;
    try {
      launchSize(await pipeline(), inputs, { numProcesses: 6, processes: 0 }, here);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'D4_OPTION', message: 'option processes must be a whole number of at least 1, got 0' });
  });
});
