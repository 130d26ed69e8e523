import { describe, expect, it } from '@jest/globals';
import { simpleMapping, type Mapping, type RunOptions } from '@d4/core';
import { mappings } from '../src/index.js';
import { workflow } from './helpers.js';

/**
 * Values that cannot cross a thread as they are give the same outcome on `simple` as on the
 * mappings where they cross: a function is refused with the codec's error, a class instance
 * arrives as a plain object, to the next PE and in the outputs. multi runs one thread per
 * instance (threads: 3), so that every link crosses a thread.
 */
const runs: Array<{ mapping: Mapping; options: RunOptions }> = [
  { mapping: simpleMapping, options: {} },
  { mapping: mappings.multi, options: { numProcesses: 3, threads: 3 } },
  { mapping: mappings.dyn_multi, options: { numProcesses: 2 } },
];

async function outcome(exportName: string, run: (typeof runs)[number]): Promise<unknown> {
  try {
    const result = await run.mapping.run(await workflow(exportName), { '*': 4 }, run.options);
    // Sorted by n: parallel mappings may deliver in another order.
    const sorted: Record<string, Record<string, unknown[]>> = {};
    for (const [pe, ports] of Object.entries(result.outputs)) {
      sorted[pe] = {};
      for (const [port, values] of Object.entries(ports)) sorted[pe][port] = [...values].sort((a, b) => (a as { n: number }).n - (b as { n: number }).n);
    }
    return { outputs: sorted };
  } catch (error) {
    return { code: (error as { code?: string }).code, message: (error as Error).message };
  }
}

describe('simple gives the outcome of the mappings that cross threads', () => {
  it('a function written to a port: D4_CODEC naming the PE, the port and the type, everywhere', async () => {
    const expected = {
      code: 'D4_CODEC',
      message:
        "PE WritesFunction1 wrote to port 'output' a value that cannot cross a process boundary: it holds a function callback; send plain data (numbers, strings, arrays, objects, Map, Set, Date, typed arrays) instead",
    };
    for (const run of runs) expect({ mapping: run.mapping.name, outcome: await outcome('writesFunction', run) }).toEqual({ mapping: run.mapping.name, outcome: expected });
  });

  it('a class instance: the next PE gets a plain object without its methods, everywhere', async () => {
    const expected = { outputs: { DescribesPoint2: { output: [0, 1, 2, 3].map((n) => ({ n, plain: true, method: 'undefined' })) } } };
    for (const run of runs) expect({ mapping: run.mapping.name, outcome: await outcome('writesInstance', run) }).toEqual({ mapping: run.mapping.name, outcome: expected });
  });

  it('a class instance as a result: a plain object in the outputs, everywhere', async () => {
    for (const run of runs) {
      const got = (await outcome('instanceResult', run)) as { outputs: Record<string, Record<string, Array<{ at: object }>>> };
      expect({ mapping: run.mapping.name, got }).toStrictEqual({ mapping: run.mapping.name, got: { outputs: { WritesInstance1: { output: [0, 1, 2, 3].map((n) => ({ n, at: { x: n, y: 0 } })) } } } });
      for (const value of got.outputs.WritesInstance1.output) expect(Object.getPrototypeOf(value.at)).toBe(Object.prototype);
    }
  });
});
