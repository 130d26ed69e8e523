import { describe, expect, test } from '@jest/globals';
import { checkConformance, checkContract, conformanceCases, conformanceGraphsModule, runConformanceCase } from '@d4/runtime/conformance';
import { loadWorkflow, type Mapping } from '@d4/core';
import { mappings } from '../src/index.js';
import { allKeys } from './redis-server.js';
import { useRedisSuite } from './redis-suite.js';

const suite = useRedisSuite();

const base = () => ({ redisUrl: suite.server.url, quiet: true });
const stateless = conformanceCases.filter((c) => !c.stateful);
const stateful = conformanceCases.filter((c) => c.stateful);

describe.each([mappings.dyn_redis, mappings.dyn_auto_redis] as Mapping[])('$name', (mapping) => {
  test('runs every stateless case like simple', async () => {
    const outcomes = await checkConformance(mapping, { ...base(), numProcesses: 2 });
    expect(outcomes.map((o) => o.case.name)).toEqual(stateless.map((c) => c.name));
    expect(await allKeys(suite.server.client)).toEqual([]);
  });

  test.each(stateful.map((c) => [c.name, c] as const))('refuses the stateful case %s', async (_name, testCase) => {
    const workflow = await loadWorkflow(conformanceGraphsModule, { exportName: testCase.name });
    await expect(mapping.run(workflow, testCase.inputs, { ...base(), numProcesses: 2 })).rejects.toMatchObject({
      code: 'D4_STATEFUL_REFUSED',
      message: expect.stringContaining("'hybrid_redis'"),
    });
  });
});

describe('redis (fixed)', () => {
  test.each(conformanceCases.map((c) => [c.name, c] as const))('%s at its smallest -n', async (_name, testCase) => {
    const outcome = await runConformanceCase(mappings.redis, testCase, { ...base(), numProcesses: testCase.minProcesses });
    expect(outcome.differences).toEqual([]);
  });

  test('without -n, the graph gets the processes it needs', async () => {
    const outcome = await runConformanceCase(mappings.redis, conformanceCases.find((c) => c.name === 'pipeline')!, base());
    expect(outcome.differences).toEqual([]);
    expect(outcome.actual.stats.workers).toHaveLength(5);
  });

  test('stateful cases with more instances than needed', async () => {
    for (const testCase of stateful) {
      const outcome = await runConformanceCase(mappings.redis, testCase, { ...base(), numProcesses: testCase.minProcesses + 2 });
      expect(outcome.differences).toEqual([]);
    }
    expect(await allKeys(suite.server.client)).toEqual([]);
  });
});

describe('hybrid_redis', () => {
  test('runs every case like simple', async () => {
    const outcomes = await checkConformance(mappings.hybrid_redis, { ...base(), numProcesses: 3 });
    expect(outcomes.map((o) => o.case.name)).toEqual(conformanceCases.map((c) => c.name));
    expect(await allKeys(suite.server.client)).toEqual([]);
  });
});

describe("the runtime's contract (the kit's lifecycle, failure and abort checks)", () => {
  test.each([mappings.redis, mappings.dyn_redis, mappings.dyn_auto_redis, mappings.hybrid_redis] as Mapping[])('$name', async (mapping) => {
    await checkContract(mapping, { ...base(), numProcesses: 4 });
    expect(await allKeys(suite.server.client)).toEqual([]);
  });
});
