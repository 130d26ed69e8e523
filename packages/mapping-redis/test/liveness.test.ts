import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { mappings } from '../src/index.js';
import type { JobInfo } from '../src/driver.js';
import { allKeys } from './redis-server.js';
import { GATED, spawnJoiner, useRedisSuite, watchRun, type Joiner } from './redis-suite.js';
import { fixture, range, sortedNumbers, waitFor } from './helpers.js';

/**
 * A worker's liveness does not depend on its PE yielding: heartbeats come from a thread of
 * its own. A worker that is really gone (killed) or frozen (SIGSTOP) is still taken for dead.
 */
const suite = useRedisSuite('d4-live-');

const all = ['redis', 'dyn_redis', 'dyn_auto_redis', 'hybrid_redis'] as const;

describe.each(all)('%s', (name) => {
  test('300 items of 25 ms CPU each (no await): no worker is taken for dead, each item once', async () => {
    // A 100-item entry keeps a worker's thread busy for 2.5 s: 2.5 × the heartbeat expiry
    // (1 s) and more than the claim time (2 s). (With a 0.5 s expiry and 10 ms items this
    // failed once at load ~30: a stall of Redis or of the machine longer than the expiry
    // less a beat's period lets any heartbeat key lapse, however busy the PE; see README
    // "Liveness".)
    const result = await mappings[name].run(await fixture('busyWork'), { '*': 300 }, { redisUrl: suite.server.url, quiet: true, numProcesses: 4, claimIdleMs: 2000 });
    expect(sortedNumbers(result.outputs.Identity2.output)).toEqual(range(1, 300));
    expect(result.stats.deadWorkers).toEqual([]);
    expect(result.stats.redelivered).toBe(0);
    expect(result.stats.duplicates).toBe(0);
    expect(await allKeys(suite.server.client)).toEqual([]);
  });

  test('a single PE call of 8 s (default --claim-idle): no worker is taken for dead', async () => {
    const result = await mappings[name].run(await fixture('longCall'), { '*': 10 }, { redisUrl: suite.server.url, quiet: true, numProcesses: 3 });
    expect(sortedNumbers(result.outputs.Identity2.output)).toEqual(range(1, 10));
    expect(result.stats.deadWorkers).toEqual([]);
    expect(result.stats.redelivered).toBe(0);
    expect(result.stats.duplicates).toBe(0);
  });
});

test('a worker frozen with SIGSTOP is taken for dead, its entry is run by another, and once resumed it stops', async () => {
  const gate = join(suite.dir, 'gate');
  const marker = join(suite.dir, 'hang');
  // The local workers wait at the gate; the joiner takes an entry, marks the file and hangs
  // with it. Then the joiner's whole process (its heartbeat thread too) is frozen.
  process.env.D4_TEST_GATE = gate;
  let joiner: Joiner | undefined;
  const run = mappings.dyn_redis.run(await fixture('gated'), { '*': 200 }, {
    redisUrl: suite.server.url,
    quiet: true,
    numProcesses: 2,
    ...GATED,
    onJob: (info: JobInfo) => {
      joiner = spawnJoiner('dyn_redis', suite.server.url, info.job, { D4_TEST_HANG_MARKER: marker }, ['ignore', 'inherit', 'pipe']);
    },
  });
  const watch = watchRun(run);
  try {
    // The marker exists a moment before its pid is written: wait for the pid.
    await waitFor(() => (existsSync(marker) && readFileSync(marker, 'utf8') !== '') || watch.settled, 'the joining worker to take an entry');
    expect(watch.settled).toBe(false);
    expect(Number(readFileSync(marker, 'utf8'))).toBe(joiner!.pid);
    process.kill(joiner!.pid, 'SIGSTOP');
    writeFileSync(gate, '');
    const result = await run;
    const values = result.outputs.Identity2.output;
    expect(sortedNumbers(values)).toEqual(range(1, 200));
    expect(result.stats.duplicates).toBe(0);
    expect(result.stats.redelivered).toBeGreaterThanOrEqual(1);
    const dead = result.stats.deadWorkers as string[];
    expect(dead).toHaveLength(1);
    expect(dead[0]).toContain(`-${joiner!.pid}-`);
    // Resumed after its job ended, the frozen worker finds the job gone and leaves by itself.
    process.kill(joiner!.pid, 'SIGCONT');
    expect(await joiner!.exit).toBe(1);
  } finally {
    if (joiner) {
      try {
        process.kill(joiner.pid, 'SIGKILL');
      } catch {
        // It has exited already.
      }
      await joiner.exit;
    }
  }
  expect(await allKeys(suite.server.client)).toEqual([]);
});
