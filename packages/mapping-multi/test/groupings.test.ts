import { describe, expect, it } from '@jest/globals';
import { simpleMapping } from '@d4/core';
import { mappings } from '../src/index.js';
import { valuesOf, workflow } from './helpers.js';

/** Tag writes [instance, value]; these tests look at which instance saw what. */
const ITEMS = 60;

function byInstance(values: unknown[]): Map<number, unknown[]> {
  const out = new Map<number, unknown[]>();
  for (const [instance, value] of values as Array<[number, unknown]>) (out.get(instance) ?? out.set(instance, []).get(instance)!).push(value);
  return out;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('multi groupings', () => {
  for (const threads of [2, 4]) {
    it(`'all' gives every instance its own copy of every item (${threads} threads)`, async () => {
      const result = await mappings.multi.run(await workflow('onetoall'), { '*': ITEMS }, { numProcesses: 4, threads });
      const seen = byInstance(valuesOf(result.outputs, 'Tag1'));
      expect([...seen.keys()].sort()).toEqual([0, 1, 2]);
      for (const values of seen.values()) expect((values as number[]).sort((a, b) => a - b)).toEqual(range(ITEMS));
      expect(result.stats.pes.Tag1).toMatchObject({ instances: 3, calls: 3 * ITEMS });
    });

    it(`'global' sends every item to instance 0 (${threads} threads)`, async () => {
      const result = await mappings.multi.run(await workflow('alltoone'), { '*': ITEMS }, { numProcesses: 4, threads });
      const seen = byInstance(valuesOf(result.outputs, 'Tag1'));
      expect([...seen.keys()]).toEqual([0]);
      expect((seen.get(0) as number[]).sort((a, b) => a - b)).toEqual(range(ITEMS));
      expect(result.stats.pes.Tag1.instances).toBe(3);
    });

    it(`group-by sends each word to one instance only, and loses none (${threads} threads)`, async () => {
      const result = await mappings.multi.run(await workflow('groupBy'), { '*': 330 }, { numProcesses: 4, threads });
      const values = valuesOf(result.outputs, 'Tag1') as Array<[number, [string, number]]>;
      const instancesOfWord = new Map<string, Set<number>>();
      for (const [instance, [word]] of values) (instancesOfWord.get(word) ?? instancesOfWord.set(word, new Set()).get(word)!).add(instance);
      expect(instancesOfWord.size).toBe(11);
      for (const [word, instances] of instancesOfWord) expect({ word, instances: instances.size }).toEqual({ word, instances: 1 });
      // More than one instance got work (11 words over 3 instances with a stable hash).
      expect(new Set(values.map(([instance]) => instance)).size).toBeGreaterThan(1);
      const simple = await simpleMapping.run(await workflow('groupBy'), { '*': 330 });
      const words = (vs: unknown[]) => (vs as Array<[number, [string, number]]>).map(([, w]) => w[0]).sort();
      expect(words(values)).toEqual(words(valuesOf(simple.outputs, 'Tag1')));
    });
  }

  it('group-by is stable: the same word goes to the same instance in every run', async () => {
    const placement = async () => {
      const result = await mappings.multi.run(await workflow('groupBy'), { '*': 110 }, { numProcesses: 4 });
      return Object.fromEntries((valuesOf(result.outputs, 'Tag1') as Array<[number, [string]]>).map(([i, [w]]) => [w, i]));
    };
    expect(await placement()).toEqual(await placement());
  });
});
