import { describe, expect, it } from '@jest/globals';
import { fileURLToPath } from 'node:url';
import { loadWorkflow, simpleMapping } from '@d4/core';

// The README's first workflow must do what the README says. (One run per process: the module
// exports a graph instance, whose PEs keep their state between runs in one process.)
const module = fileURLToPath(new URL('../wordcount.ts', import.meta.url));

describe('README first workflow', () => {
  it('counts the words of lines given with -d', async () => {
    const result = await simpleMapping.run(await loadWorkflow(module), { Lines: ['a b a', 'b c'] });
    expect(new Map(result.outputs.Count2.output as Array<[string, number]>)).toEqual(new Map([['a', 2], ['b', 2], ['c', 1]]));
  });
});
