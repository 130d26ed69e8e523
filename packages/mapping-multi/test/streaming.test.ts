import { afterAll, describe, expect, it } from '@jest/globals';
import { BroadcastChannel } from 'node:worker_threads';
import { mappings } from '../src/index.js';
import { RESULT_SEEN_CHANNEL } from './fixtures/workflows.js';
import { workflow } from './helpers.js';

const ITEMS = 20;
const WAIT_AT = 10;

// Tells every worker copy (through a BroadcastChannel, which reaches every thread of this
// process) that the caller has seen a result.
const channel = new BroadcastChannel(RESULT_SEEN_CHANNEL);
afterAll(() => channel.close());

describe('results stream to the caller while a slow batch runs', () => {
  for (const name of ['multi', 'dyn_multi', 'dyn_auto_multi'] as const) {
    it(`${name}: onOutput gets a slow PE's first results before its batch ends`, async () => {
      // The last PE takes 10 ms per item and, at item 10, waits for the caller to have seen
      // one of its results (failing after 5 s). Results held until the end of the batch
      // (which holds all 20 items) would never arrive in time.
      const seen: number[] = [];
      const result = await mappings[name].run(await workflow('streamsWhileSlow', { waitAt: WAIT_AT, timeoutMs: 5000 }), { '*': ITEMS }, {
        numProcesses: name === 'multi' ? 2 : 1,
        onOutput: (_peId, _port, value) => {
          if (seen.length === 0) channel.postMessage('seen');
          seen.push(value as number);
        },
      });
      expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: ITEMS }, (_, i) => i));
      expect(result.stats.pes.AwaitsCallerSeeing1.calls).toBe(ITEMS);
    }, 20_000);
  }
});
