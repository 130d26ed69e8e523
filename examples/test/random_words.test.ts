import { describe, expect, it } from '@jest/globals';
import { simpleMapping } from '@d4/core';
import { instanceRandom, mulberry32, pick } from '../graph_testing/random.js';
import { WORDS } from '../graph_testing/testing_pes.js';
import { wordCount } from '../graph_testing/word_count.js';
import { wordCountFilter } from '../graph_testing/word_count_filter.js';
import { groupBy } from '../graph_testing/group_by.js';
import { groupByStateful } from '../graph_testing/group_by_stateful.js';
import { groupingSplitMerge } from '../graph_testing/grouping_split_merge.js';

/** The words RandomWordProducer0 writes for a seed: the seed's stream for that PE id, instance 0. */
function producedWords(seed: number, n: number): string[] {
  const random = instanceRandom(seed, 'RandomWordProducer0', 0);
  return Array.from({ length: n }, () => pick(random, WORDS));
}

/** The pass (true) / drop (false) decisions of a RandomFilter with this id. */
function filterDecisions(seed: number, peId: string, n: number): boolean[] {
  const random = instanceRandom(seed, peId, 0);
  return Array.from({ length: n }, () => random() < 0.5);
}

/** What a WordCounter writes for this stream of words: [word, occurrences so far]. */
function runningCounts(words: string[]): Array<[string, number]> {
  const seen = new Map<string, number>();
  return words.map((word) => {
    const count = (seen.get(word) ?? 0) + 1;
    seen.set(word, count);
    return [word, count];
  });
}

describe('seeded randomness', () => {
  it('mulberry32 repeats a sequence for a seed, differs between seeds, and stays in [0, 1)', () => {
    const a = mulberry32(7);
    const b = mulberry32(7);
    const c = mulberry32(8);
    const first = Array.from({ length: 1000 }, () => a());
    expect(Array.from({ length: 1000 }, () => b())).toEqual(first);
    expect(Array.from({ length: 1000 }, () => c())).not.toEqual(first);
    expect(first.every((x) => x >= 0 && x < 1)).toBe(true);
    // Not constant: a thousand draws cover both halves of the interval well.
    const low = first.filter((x) => x < 0.5).length;
    expect(low).toBeGreaterThan(400);
    expect(low).toBeLessThan(600);
  });

  it('gives each PE id and each instance its own stream', () => {
    const draw = (id: string, instance: number) => {
      const random = instanceRandom(42, id, instance);
      return [random(), random(), random()];
    };
    expect(draw('RandomFilter1', 0)).toEqual(draw('RandomFilter1', 0));
    expect(draw('RandomFilter1', 0)).not.toEqual(draw('RandomFilter2', 0));
    expect(draw('RandomFilter1', 0)).not.toEqual(draw('RandomFilter1', 1));
  });
});

describe('word counting workflows on simple', () => {
  it('word_count: running counts of the seed’s words, the same in every run', async () => {
    const result = await simpleMapping.run(wordCount({ seed: 7 }), { '*': 50 });
    const expected = runningCounts(producedWords(7, 50));
    expect(result.outputs).toEqual({ WordCounter1: { output: expected } });
    // The counts add up: each word's last count is its number of occurrences.
    const totals = new Map(expected);
    expect([...totals.values()].reduce((a, b) => a + b, 0)).toBe(50);
    expect(totals.size).toBeGreaterThan(3);
    expect((await simpleMapping.run(wordCount({ seed: 7 }), { '*': 50 })).outputs).toEqual(result.outputs);
    expect((await simpleMapping.run(wordCount({ seed: 8 }), { '*': 50 })).outputs).not.toEqual(result.outputs);
  });

  it('word_count: the default graph uses seed 42 and 3 counter instances', async () => {
    const graph = wordCount();
    expect(graph.pes().map((pe) => [pe.id, pe.numprocesses])).toEqual([
      ['RandomWordProducer0', 1],
      ['WordCounter1', 3],
    ]);
    expect(graph.pes()[1].inputs.get('input')?.grouping).toEqual([0]);
    expect((await simpleMapping.run(graph, { '*': 20 })).outputs).toEqual({ WordCounter1: { output: runningCounts(producedWords(42, 20)) } });
  });

  it('group_by and group_by_stateful: three pass-through PEs, partitions, then the counter', async () => {
    const expected = { WordCounter4: { output: runningCounts(producedWords(3, 40)) } };
    const graph = groupBy({ seed: 3 });
    expect(graph.partitions?.map((part) => part.map((pe) => pe.id))).toEqual([['RandomWordProducer0'], ['TestOneInOneOut1', 'TestOneInOneOut2', 'TestOneInOneOut3'], ['WordCounter4']]);
    expect((await simpleMapping.run(graph, { '*': 40 })).outputs).toEqual(expected);
    const stateful = groupByStateful({ seed: 3 });
    expect(stateful.peById('WordCounter4')?.numprocesses).toBe(2);
    expect((await simpleMapping.run(stateful, { '*': 40 })).outputs).toEqual(expected);
  });

  it('word_count_filter: only the words the filter passes are counted', async () => {
    const words = producedWords(11, 200);
    const passes = filterDecisions(11, 'RandomFilter1', 200);
    const kept = words.filter((_, k) => passes[k]);
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThan(200);
    const result = await simpleMapping.run(wordCountFilter({ seed: 11 }), { '*': 200 });
    expect(result.outputs).toEqual({ WordCounter2: { output: runningCounts(kept) } });
  });

  it('grouping_split_merge: each word is counted once per filter it passes, filter 1 first', async () => {
    const words = producedWords(5, 100);
    const first = filterDecisions(5, 'RandomFilter1', 100);
    const second = filterDecisions(5, 'RandomFilter2', 100);
    expect(first).not.toEqual(second);
    // simple delivers depth-first: a word goes through filter 1 (and on to the counter) before filter 2.
    const arriving = words.flatMap((word, k) => [...(first[k] ? [word] : []), ...(second[k] ? [word] : [])]);
    const result = await simpleMapping.run(groupingSplitMerge({ seed: 5 }), { '*': 100 });
    expect(result.outputs).toEqual({ WordCounter3: { output: runningCounts(arriving) } });
  });
});
