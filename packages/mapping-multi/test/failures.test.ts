import { describe, expect, it } from '@jest/globals';
import { PEError, WorkerError, WorkflowGraph, WorkflowLoadError, loadMapping } from '@d4/core';
import { Numbers, Pass } from './fixtures/workflows.js';
import { mappings } from '../src/index.js';
import { workflow } from './helpers.js';

const all = ['multi', 'dyn_multi', 'dyn_auto_multi'] as const;

describe('failures end the run with a clear error, never a hang', () => {
  for (const name of all) {
    it(`${name}: a module that builds another graph in the workers is refused with D4_WORKFLOW_MISMATCH`, async () => {
      const error = await mappings[name].run(await workflow('differsInWorkers'), { '*': 5 }, { numProcesses: 3 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WorkflowLoadError);
      expect(error).toMatchObject({ code: 'D4_WORKFLOW_MISMATCH', message: expect.stringMatching(/could not rebuild the workflow: the workflow rebuilt from .* has PEs Numbers0, Pass1, Pass2, but the job was planned with Numbers0, Pass1;/) });
    });


    it(`${name}: a PE that throws fails the run with its id, the item and the stack`, async () => {
      const error = await mappings[name].run(await workflow('failing', { bad: 7 }), { '*': 50 }, { numProcesses: 3 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PEError);
      expect(error).toMatchObject({ code: 'D4_PE_FAILED', peId: 'FailOn1', item: { input: 7 }, phase: 'process' });
      expect((error as PEError).message).toBe('PE FailOn1 failed while processing {"input":7}: item 7 is bad');
      expect((error as PEError).peStack).toContain('workflows.ts');
    });

    it(`${name}: a write to an undeclared port names the PE, the port and the item`, async () => {
      const error = await mappings[name].run(await workflow('misnamed'), { '*': 5 }, { numProcesses: 3 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PEError);
      expect(error).toMatchObject({ code: 'D4_PE_FAILED', peId: 'Misnamed1', phase: 'process' });
      // The first item (0) fails in whichever copy gets it first; shuffle sends it to one.
      expect((error as PEError).message).toMatch(/^PE Misnamed1 failed while processing \{"input":\d\}: wrote to port 'outptu', which it does not declare; its outputs are: output$/);
    });

    it(`${name}: a PE that ends its thread (process.exit) fails the run naming the PE, the item and the exit code`, async () => {
      const error = await mappings[name].run(await workflow('exiting', { bad: 5 }), { '*': 50 }, { numProcesses: 3 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PEError);
      expect(error).toMatchObject({ code: 'D4_PE_FAILED', peId: 'ExitOn1', item: { input: 5 }, phase: 'process' });
      expect((error as Error).message).toMatch(/^PE ExitOn1 failed while processing \{"input":5\}: called process\.exit\(3\), which ended its worker thread \(thread \d+, exit code 3\); a PE must not end its process: throw an error instead/);
    });

    it(`${name}: a worker out of memory fails the run with a WorkerError`, async () => {
      const error = await mappings[name].run(await workflow('hoarding'), { '*': 1_000_000 }, { numProcesses: 2, workerMemory: 32 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WorkerError);
      expect(error).toMatchObject({ code: 'D4_WORKER_OUT_OF_MEMORY' });
      expect((error as Error).message).toContain('died out of memory');
    });

    it(`${name}: a graph built inline is refused with what to do`, async () => {
      const graph = new WorkflowGraph().connect(new Numbers(), 'output', new Pass(), 'input');
      await expect(mappings[name].run(graph, { '*': 3 })).rejects.toMatchObject({ code: 'D4_WORKFLOW_NOT_A_MODULE', message: expect.stringContaining(`mapping '${name}'`) });
    });

    it(`${name}: an abort stops the workers and rejects`, async () => {
      const controller = new AbortController();
      const run = mappings[name].run(await workflow('fastIntoSlow', { size: 8, spinMicros: 200 }), { '*': 1_000_000 }, { numProcesses: 2, signal: controller.signal });
      setTimeout(() => controller.abort('enough'), 300);
      await expect(run).rejects.toMatchObject({ code: 'D4_ABORTED', message: 'the run was aborted: enough' });
    });
  }

  it('multi: -n smaller than the graph needs is refused with the number required', async () => {
    const error = await mappings.multi.run(await workflow('failing'), { '*': 3 }, { numProcesses: 2 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'D4_TOO_FEW_PROCESSES', required: 3 });
    expect((error as Error).message).toContain('use -n 3 or more');
  });

  it('multi -s: fewer processes than partitions is refused with the number required', async () => {
    const error = await mappings.multi.run(await workflow('failing'), { '*': 3 }, { numProcesses: 1, simple: true }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'D4_TOO_FEW_PROCESSES', required: 2 });
  });

  it('dyn_multi: a value that cannot cross a thread names the PE and the port', async () => {
    const error = await mappings.dyn_multi.run(await workflow('writesFunction'), { '*': 5 }, { numProcesses: 2 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'D4_CODEC' });
    expect((error as Error).message).toContain("PE WritesFunction1 wrote to port 'output' a value that cannot cross a process boundary: it holds a function");
  });

  it('dyn_* refuse a PE with the stateful flag, naming it and the mappings that can run it', async () => {
    for (const name of ['dyn_multi', 'dyn_auto_multi'] as const) {
      await expect(mappings[name].run(await workflow('flaggedStateful'), { '*': 3 })).rejects.toMatchObject({
        code: 'D4_STATEFUL_REFUSED',
        message: `mapping '${name}' runs stateless PEs only, but PE Pass1 is stateful (its stateful flag is set); run this graph with 'multi' or 'hybrid_redis'`,
      });
    }
  });

  it('bad options are refused before any work', async () => {
    await expect(mappings.multi.run(await workflow('failing'), { '*': 3 }, { numProcesses: 'many' })).rejects.toMatchObject({ code: 'D4_OPTION', message: expect.stringContaining('numProcesses') });
    await expect(mappings.dyn_auto_multi.run(await workflow('failing'), { '*': 3 }, { threshold: -1 })).rejects.toMatchObject({ code: 'D4_OPTION', message: expect.stringContaining('threshold') });
  });

  it("core's loadMapping finds the three mappings by name", async () => {
    for (const name of all) expect((await loadMapping(name)).name).toBe(name);
  });
});

describe('multi -s partitions', () => {
  it('refuses partitions that feed each other in a cycle', async () => {
    await expect(mappings.multi.run(await workflow('cyclicPartitions'), { '*': 3 }, { simple: true, numProcesses: 2 })).rejects.toMatchObject({
      code: 'D4_PARTITION_CYCLE',
      message: expect.stringContaining('the partitions feed each other in a cycle'),
    });
  });

  it('puts PEs that no partition lists into one more partition', async () => {
    const result = await mappings.multi.run(await workflow('partialPartitions'), { '*': 20 }, { simple: true, numProcesses: 2 });
    expect(result.stats.processes).toEqual({ Numbers0: [0], Pass1: [0], Pass2: [1] });
    expect((result.outputs.Pass2.output as number[]).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });
});
