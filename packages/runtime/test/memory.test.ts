import { describe, expect, it } from '@jest/globals';
import { loadWorkflow } from '@d4/core';
import { checkAbort, checkConformance, checkContract, checkFailure, checkLifecycle, conformanceCases, conformanceGraphsModule } from '../src/conformance/index.js';
import { memoryBackend, memoryMapping, memoryPoolMapping, runFixedJob } from '../src/index.js';

describe('the runtime on its in-memory transport', () => {
  it('gives the same outputs as simple on every conformance case, at the smallest size and larger', async () => {
    for (const testCase of conformanceCases) {
      for (const n of [testCase.minProcesses, testCase.minProcesses + 3]) {
        await checkConformance(memoryMapping, { numProcesses: n }, [testCase]);
      }
    }
  });

  it('gives the same outputs partitioned', async () => {
    const outcomes = await checkConformance(memoryMapping, { partitioned: true, numProcesses: 4 });
    expect(outcomes.every((o) => o.actual.stats.partitioned === true)).toBe(true);
  });

  it("keeps the runtime's contract: lifecycle per instance, a PE's error, abort", async () => {
    await checkContract(memoryMapping, { numProcesses: 5 });
  });

  it('reports per-PE stats and the plan', async () => {
    const result = await memoryMapping.run(await loadWorkflow(conformanceGraphsModule, { exportName: 'pipeline' }), { '*': 100 }, { numProcesses: 11 });
    expect(result.stats.pes.Identity1).toMatchObject({ instances: 2, calls: 100, writes: 100 });
    expect(result.stats.processes).toMatchObject({ CountingProducer0: [0], Identity1: [1, 2] });
    expect(result.stats.instances).toBe(11);
    expect(result.outputs.Identity5.output).toHaveLength(100);
  });

  it("sends batches of the backend's tuning, not the default's", async () => {
    const workflow = await loadWorkflow(conformanceGraphsModule, { exportName: 'pipeline' });
    const expected = (await memoryMapping.run(await loadWorkflow(conformanceGraphsModule, { exportName: 'pipeline' }), { '*': 100 }, { numProcesses: 6 })).outputs;
    const result = await runFixedJob({ ...memoryBackend(), tuning: { batchItems: 8 } }, workflow, { '*': 100 }, { numProcesses: 6 });
    expect(result.outputs).toEqual(expected);
    // 100 items over each of 5 links: batches of at most 8 make at least 13 per link
    // (with the default of 1024, one or two per link).
    expect(result.stats.itemsSent).toBe(500);
    expect(result.stats.batchesSent).toBeGreaterThanOrEqual(5 * 13);
  });
});

describe("the runtime's shared pool on its in-memory transport", () => {
  it('gives the same outputs as simple on every stateless case, and refuses the stateful ones', async () => {
    for (const testCase of conformanceCases) {
      if (testCase.stateful) {
        await expect(checkConformance(memoryPoolMapping, { numProcesses: 3 }, [testCase])).rejects.toMatchObject({ code: 'D4_STATEFUL_REFUSED' });
        continue;
      }
      for (const n of [1, 3]) await checkConformance(memoryPoolMapping, { numProcesses: n }, [testCase]);
    }
  });

  it("keeps the runtime's contract: lifecycle per worker copy, a PE's error, abort", async () => {
    await checkContract(memoryPoolMapping, { numProcesses: 3 });
  });

  it('refuses a module that exports one graph object (its workers would share PE objects)', async () => {
    const { fileURLToPath } = await import('node:url');
    const module = fileURLToPath(new URL('./fixtures/graph-object.ts', import.meta.url));
    await expect(memoryPoolMapping.run(await loadWorkflow(module), { '*': 3 }, { numProcesses: 2 })).rejects.toMatchObject({ code: 'D4_WORKFLOW_SHARED_PES', message: expect.stringContaining('export a factory') });
    await expect(memoryMapping.run(await loadWorkflow(module), { '*': 3 }, { numProcesses: 2 })).rejects.toMatchObject({ code: 'D4_WORKFLOW_SHARED_PES' });
  });
});

describe('the contract checks themselves fail for a mapping that breaks the contract', () => {
  const broken = {
    ...memoryMapping,
    name: 'broken',
    run: async (...args: Parameters<typeof memoryMapping.run>) => {
      const result = await memoryMapping.run(...args).catch((e: unknown) => {
        throw Object.assign(new Error('lost it'), { code: 'D4_SOMETHING' });
      });
      const lifecycle = result.outputs.LifecycleCounter1?.lifecycle as Array<{ preprocessed: number }> | undefined;
      if (lifecycle) lifecycle[0].preprocessed = 2;
      return result;
    },
  };

  it('names what is wrong', async () => {
    expect(await checkLifecycle(broken, { numProcesses: 4 })).toEqual([expect.stringMatching(/^instance \d was preprocessed 2 times/)]);
    expect(await checkFailure(broken, { numProcesses: 4 })).toEqual(
      expect.arrayContaining(['the error is a Error, not a PEError', "the error's code is D4_SOMETHING, not D4_PE_FAILED", 'the error names PE undefined, not FailsOn2']),
    );
    expect(await checkAbort(broken, { numProcesses: 4 })).toEqual(['the aborted run failed with D4_SOMETHING (lost it), not D4_ABORTED']);
  });
});
