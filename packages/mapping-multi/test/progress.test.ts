import { describe, expect, it } from '@jest/globals';
import type { RunOptions } from '@d4/core';
import { checkLiveProgress } from '@d4/runtime/conformance';
import { mappings } from '../src/index.js';
import { workflow } from './helpers.js';

const ITEMS = 200;

/**
 * RunOptions.progress moves while a worker is busy: 200 items of a PE that spins 3 ms each
 * (synchronously, so its thread runs no timers and posts nothing) reach the slow PE in a
 * single batch on every mapping here (multi: under the batch size; dyn_*: one copy, one
 * batch of tasks). Polled every 50 ms, the slow PE's counter must take several values
 * between 0 and the total before the run ends, never go back, and end at the stats.
 */
describe('progress moves during a run, not only between batches', () => {
  const runs: Array<[keyof typeof mappings, RunOptions]> = [
    ['multi', { numProcesses: 2 }],
    ['dyn_multi', { numProcesses: 1 }],
    ['dyn_auto_multi', { numProcesses: 1 }],
  ];
  for (const [name, options] of runs) {
    it(`${name}: a slow PE's calls are counted while its batch runs`, async () => {
      const progress = { calls: {} as Record<string, number> };
      const seen: number[] = [];
      const poll = setInterval(() => seen.push(progress.calls.Slow1 ?? 0), 50);
      let result;
      try {
        result = await mappings[name].run(await workflow('fastIntoSlow', { size: 8, spinMicros: 3000 }), { '*': ITEMS }, { ...options, progress });
      } finally {
        clearInterval(poll);
      }
      for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThanOrEqual(seen[i - 1]);
      const between = new Set(seen.filter((n) => n > 0 && n < ITEMS));
      expect({ distinctValuesBetween: between.size >= 3, seen }).toEqual({ distinctValuesBetween: true, seen });
      expect(result.stats.pes.Slow1.calls).toBe(ITEMS);
      expect(progress.calls).toEqual({ Payloads0: ITEMS, Slow1: ITEMS });
    });
  }
});

// The kit's check, as zmq_multi and mpi run it: counts seen mid-run while a PE holds an item, exact at the end.
describe('the conformance kit: live progress', () => {
  // dyn_multi's two workers each run a copy of Gate2: the other copy goes on while one holds item 41.
  for (const [name, options, copies] of [
    ['multi', { numProcesses: 3 }, 'one'],
    ['dyn_multi', { numProcesses: 2 }, 'several'],
  ] as const) {
    it(`${name}: the call counts reach the caller's progress while the run goes, and are exact at the end`, async () => {
      expect(await checkLiveProgress(mappings[name], options, copies)).toEqual([]);
    }, 60_000);
  }
});
