import { afterEach, describe, expect, test } from '@jest/globals';
import { IterativePE, WorkflowGraph, guardProcessExit, peExitError, simpleMapping, type PECall } from '../src/index.js';
import { CountingProducer } from '../src/conformance/graphs.js';

/** Stands in for process.exit (the guard calls whatever process.exit was when installed). */
class Exited extends Error {
  constructor(readonly code: number | string | null | undefined) {
    super(`exit ${String(code)}`);
  }
}

const realExit = process.exit;
afterEach(() => {
  process.exit = realExit;
});

function install(): { reports: { code: number; call: PECall | undefined }[]; restore: () => void } {
  process.exit = ((code?: number | string | null) => {
    throw new Exited(code);
  }) as typeof process.exit;
  const reports: { code: number; call: PECall | undefined }[] = [];
  const { restore } = guardProcessExit((code, call) => reports.push({ code, call }));
  return { reports, restore };
}

class ExitsOn extends IterativePE {
  constructor(
    private readonly bad: number,
    private readonly wait: boolean,
  ) {
    super('ExitsOn');
  }
  async _process(data: number): Promise<number> {
    if (this.wait) await new Promise((resolve) => setTimeout(resolve, 1));
    if (data === this.bad) process.exit(4);
    return data;
  }
}

/** Exits synchronously, from deep inside its own recursion (deeper than a default stack trace). */
class ExitsDeep extends IterativePE {
  constructor(private readonly bad: number) {
    super('ExitsDeep');
  }
  _process(data: number): number {
    const down = (depth: number): number => {
      if (depth > 0) return down(depth - 1) + 0;
      if (data === this.bad) process.exit(5);
      return data;
    };
    return down(300);
  }
}

describe('guardProcessExit', () => {
  test('names the PE and the item of a synchronous call, however deep in the PE the exit is', async () => {
    const { reports, restore } = install();
    const graph = new WorkflowGraph().connect(new CountingProducer(), 'output', new ExitsDeep(2), 'input');
    await expect(simpleMapping.run(graph, { '*': 5 })).rejects.toMatchObject({ cause: expect.any(Exited) });
    restore();
    expect(reports).toEqual([{ code: 5, call: { peId: 'ExitsDeep1', phase: 'process', item: { input: 2 } } }]);
  });

  test('after an async PE call has settled, an exit is outside any PE call again', async () => {
    const { reports, restore } = install();
    const graph = new WorkflowGraph().connect(new CountingProducer(), 'output', new ExitsOn(-1, true), 'input');
    await simpleMapping.run(graph, { '*': 3 });
    expect(() => process.exit(6)).toThrow(Exited);
    restore();
    expect(reports).toEqual([{ code: 6, call: undefined }]);
  });

  test.each([false, true])('names the PE and the item of the call in progress (after an await: %s)', async (wait) => {
    const { reports, restore } = install();
    const graph = new WorkflowGraph().connect(new CountingProducer(), 'output', new ExitsOn(3, wait), 'input');
    // The stand-in throws, so the run fails (a real exit would end the process here).
    await expect(simpleMapping.run(graph, { '*': 5 })).rejects.toMatchObject({ cause: expect.any(Exited) });
    restore();
    expect(reports).toEqual([{ code: 4, call: { peId: 'ExitsOn1', phase: 'process', item: { input: 3 } } }]);
    const error = peExitError(4, reports[0].call, 'the test');
    expect(error).toMatchObject({ code: 'D4_PE_FAILED', peId: 'ExitsOn1', item: { input: 3 } });
    expect(error.message).toBe('PE ExitsOn1 failed while processing {"input":3}: called process.exit(4), which ended the test; a PE must not end its process: throw an error instead (the run then fails naming the PE and the item)');
  });

  test('outside any PE call there is no PE to name', () => {
    const { reports, restore } = install();
    expect(() => process.exit(2)).toThrow(Exited);
    restore();
    expect(reports).toEqual([{ code: 2, call: undefined }]);
    expect(peExitError(2, undefined, 'the test')).toMatchObject({ code: 'D4_PE_EXIT', message: expect.stringContaining('outside any PE call') });
  });
});
