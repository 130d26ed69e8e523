import { describe, expect, test } from '@jest/globals';
import { mappings } from '../src/index.js';
import { useRedisSuite } from './redis-suite.js';
import { fixture, range, sortedNumbers } from './helpers.js';

/**
 * The progress counters (RunOptions.progress) move while a run goes, also inside one long
 * batch: the workers' heartbeat threads send their call counts every 200 ms.
 */
const suite = useRedisSuite();

const all = ['redis', 'dyn_redis', 'dyn_auto_redis', 'hybrid_redis'] as const;

describe.each(all)('%s', (name) => {
  test('progress moves inside one long batch of an async PE, and ends exact', async () => {
    const progress = { calls: {} as Record<string, number> };
    // 400 items of 5 ms in one entry: one batch of about 2 s, one commit at its end.
    const run = mappings[name].run(await fixture('slowWork'), { '*': 400 }, { redisUrl: suite.server.url, quiet: true, numProcesses: name === 'redis' ? 3 : 2, batchSize: 400, progress });
    let settled = false;
    run.then(() => (settled = true), () => (settled = true));
    const seen: number[] = [];
    while (!settled) {
      const calls = progress.calls.SlowIdentity1 ?? 0;
      if (calls !== seen[seen.length - 1]) seen.push(calls);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const result = await run;
    expect(sortedNumbers(result.outputs.Identity2.output)).toEqual(range(1, 400));
    // Several values between nothing and all, in order, seen while the batch ran.
    const between = seen.filter((n) => n > 0 && n < 400);
    expect(between.length).toBeGreaterThanOrEqual(4);
    expect([...seen].sort((a, b) => a - b)).toEqual(seen);
    expect(progress.calls).toEqual({ CountingProducer0: 400, SlowIdentity1: 400, Identity2: 400 });
  });
});
