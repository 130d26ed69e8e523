import { describe, expect, it } from '@jest/globals';
import { ProcessAssignmentError, assignProcesses, createRouter, minimumProcesses, stableHash } from '../src/index.js';
import { pipeline, splitMerge } from '../src/conformance/graphs.js';

const ctx = { peId: 'X1', port: 'input' };

describe('groupings', () => {
  it('shuffles round-robin starting at the source instance index', () => {
    const first = createRouter('shuffle', 0, 3, ctx);
    expect([1, 2, 3, 4, 5].map((v) => first.route(v))).toEqual([0, 1, 2, 0, 1]);
    const second = createRouter('shuffle', 1, 3, ctx);
    expect([1, 2, 3].map((v) => second.route(v))).toEqual([1, 2, 0]);
  });

  it('sends global to instance 0 and broadcasts all', () => {
    expect(createRouter('global', 2, 4, ctx).route('x')).toBe(0);
    expect(createRouter('all', 0, 4, ctx).broadcast).toBe(true);
  });

  it('groups by a stable hash of the selected fields', () => {
    const router = createRouter([0], 0, 5, ctx);
    const byKey = createRouter(['word'], 3, 5, ctx);
    for (const word of ['alpha', 'beta', 'gamma', 'delta']) {
      const expected = stableHash([word]) % 5;
      expect(router.route([word, 1])).toBe(expected);
      expect(router.route([word, 99])).toBe(expected);
      expect(byKey.route({ word, n: 1 })).toBe(expected);
    }
  });

  it('hashes with FNV-1a over a canonical text, identical everywhere', () => {
    // FNV-1a 32 of the text '["a"]', computed by hand from the published algorithm.
    let h = 0x811c9dc5;
    for (const c of '["a"]') h = Math.imul(h ^ c.charCodeAt(0), 0x01000193);
    expect(stableHash(['a'])).toBe(h >>> 0);
    expect(stableHash({ b: 1, a: 2 })).toBe(stableHash({ a: 2, b: 1 }));
    expect(stableHash([1])).not.toBe(stableHash(['1']));
  });

  it('refuses group-by on a value without fields', () => {
    expect(() => createRouter([0], 0, 2, ctx).route(42)).toThrow(expect.objectContaining({ code: 'D4_GROUPING_VALUE', message: expect.stringContaining('PE X1 groups input') }));
  });
});

describe('assignProcesses (dispel4py formula)', () => {
  it('gives sources one process and shares the rest', () => {
    expect(assignProcesses(pipeline(), 6).processes).toEqual({
      CountingProducer0: [0], Identity1: [1], Identity2: [2], Identity3: [3], Identity4: [4], Identity5: [5],
    });
    const eleven = assignProcesses(pipeline(), 11);
    expect(eleven.processes.Identity1).toEqual([1, 2]);
    expect(eleven.processes.Identity5).toEqual([9, 10]);
    expect(eleven.used).toBe(11);
    // 10 processes: floor(9 / 5) = 1 each, as dispel4py leaves the remainder unused.
    expect(assignProcesses(pipeline(), 10).used).toBe(6);
  });

  it('keeps numprocesses set above one', () => {
    const graph = splitMerge();
    graph.pes()[3].numprocesses = 3;
    const result = assignProcesses(graph, 8);
    expect(result.processes.Concat3).toHaveLength(3);
    expect(minimumProcesses(graph)).toBe(6);
  });

  it('refuses a graph larger than the job size with the number required', () => {
    let error: unknown;
    try {
      assignProcesses(pipeline(), 4);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ProcessAssignmentError);
    expect((error as ProcessAssignmentError).required).toBe(6);
    expect((error as Error).message).toMatch(/needs at least 6 processes.*use -n 6 or more/);
  });
});
