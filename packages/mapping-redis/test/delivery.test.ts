import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from '@jest/globals';
import type { RunResult } from '@d4/core';
import { mappings } from '../src/index.js';
import type { JobInfo } from '../src/driver.js';
import { allKeys } from './redis-server.js';
import { GATED, spawnJoiner, useRedisSuite, watchRun, type Joiner } from './redis-suite.js';
import { fixture, range, sortedNumbers, waitFor } from './helpers.js';

const suite = useRedisSuite('d4-redis-');

function workersOf(result: RunResult): { consumer: string; items: number }[] {
  return result.stats.workers as { consumer: string; items: number }[];
}

describe.each(['dyn_redis', 'hybrid_redis'] as const)('%s', (name) => {
  test('a worker killed with SIGKILL mid-run loses nothing: another one claims its entries', async () => {
    const gate = join(suite.dir, 'gate');
    const marker = join(suite.dir, 'hang');
    // Local workers hold their first entry until the gate opens; the joiner takes an entry,
    // marks the file and hangs with it, uncommitted.
    process.env.D4_TEST_GATE = gate;
    let joiner: Joiner | undefined;
    const run = mappings[name].run(await fixture('gated'), { '*': 200 }, {
      redisUrl: suite.server.url,
      quiet: true,
      numProcesses: 2,
      ...GATED,
      onJob: (info: JobInfo) => {
        joiner = spawnJoiner(name, suite.server.url, info.job, { D4_TEST_HANG_MARKER: marker });
      },
    });
    const watch = watchRun(run);
    await waitFor(() => existsSync(marker) || watch.settled, 'the joining worker to take an entry');
    expect(watch.settled).toBe(false);
    process.kill(joiner!.pid, 'SIGKILL');
    expect(await joiner!.exit).toBe('SIGKILL');
    writeFileSync(gate, '');
    const result = await run;
    const values = result.outputs.Identity2.output;
    const duplicates = values.length - new Set(values).size;
    expect(new Set(values)).toEqual(new Set(range(1, 200)));
    expect(result.stats.duplicates).toBe(duplicates);
    // The killed worker's entry was run again by a live worker.
    expect(result.stats.redelivered).toBeGreaterThanOrEqual(1);
    // The killed joiner never reports; the local workers do, unless one was still starting
    // when the others had done everything (on a loaded machine).
    const reported = workersOf(result).map((w) => w.consumer);
    expect(reported.length).toBeGreaterThanOrEqual(1);
    for (const consumer of reported) expect(['L0', 'L1']).toContain(consumer);
    expect(await allKeys(suite.server.client)).toEqual([]);
  });

  test('a second process joins the job with worker() and takes part of the work', async () => {
    const gate = join(suite.dir, 'gate');
    // The local worker waits until the joiner has run an item: so the joiner surely takes part.
    process.env.D4_TEST_GATE = gate;
    let joiner: Joiner | undefined;
    const result = await mappings[name].run(await fixture('gated'), { '*': 100 }, {
      redisUrl: suite.server.url,
      quiet: true,
      numProcesses: 1,
      batchSize: 5,
      readCount: 1,
      onJob: (info: JobInfo) => {
        expect(info.joinCommand).toBe(`d4 worker ${name} --redis-url ${suite.server.url} --job ${info.job}`);
        joiner = spawnJoiner(name, suite.server.url, info.job, { D4_TEST_OPEN_GATE: gate });
      },
    });
    expect(await joiner!.exit).toBe(0);
    expect(sortedNumbers(result.outputs.Identity2.output)).toEqual(range(1, 100));
    const workers = workersOf(result);
    // The local worker may still be starting when the joiner has done everything: only the
    // joiner's part is certain.
    const joined = workers.find((w) => w.consumer !== 'L0')!;
    expect(joined.items).toBeGreaterThan(0);
    expect(workers.reduce((n, w) => n + w.items, 0)).toBe(200);
    expect(await allKeys(suite.server.client)).toEqual([]);
  });
});

test('a PE that calls process.exit in a joined worker fails the run naming the PE, the item and the code', async () => {
  // The local worker waits at the gate (never opened); the joiner's PE ends its process.
  process.env.D4_TEST_GATE = join(suite.dir, 'gate');
  let joiner: Joiner | undefined;
  const error = await mappings.dyn_redis
    .run(await fixture('exitingJoiner'), { '*': 50 }, {
      redisUrl: suite.server.url,
      quiet: true,
      numProcesses: 1,
      batchSize: 5,
      readCount: 1,
      onJob: (info: JobInfo) => {
        joiner = spawnJoiner('dyn_redis', suite.server.url, info.job, { D4_TEST_EXIT_HERE: '1' });
      },
    })
    .catch((e: unknown) => e);
  expect(await joiner!.exit).toBe(3);
  expect(error).toMatchObject({ code: 'D4_PE_FAILED', peId: 'ExitsHere1', item: { input: expect.any(Number) } });
  expect((error as Error).message).toMatch(/called process\.exit\(3\), which ended worker \S+'s process \(pid \d+, exit code 3\)/);
  expect(await allKeys(suite.server.client)).toEqual([]);
});

describe('redis (fixed)', () => {
  test("a worker killed with SIGKILL mid-run: another takes over its unit and what it left pending", async () => {
    const gate = join(suite.dir, 'gate');
    process.env.D4_TEST_GATE = gate;
    let info: JobInfo | undefined;
    // -n 3: the source in the driver, GatedIdentity1 in unit 0 (L0), Identity2 in unit 1 (L1),
    // each in a process of its own (whatever the machine's cores).
    const run = mappings.redis.run(await fixture('gated'), { '*': 100 }, {
      redisUrl: suite.server.url,
      quiet: true,
      numProcesses: 3,
      processes: 2,
      ...GATED,
      onJob: (i: JobInfo) => (info = i),
    });
    const watch = watchRun(run);
    await waitFor(() => info !== undefined || watch.settled, 'the job to start');
    const unit0 = `d4:{${info!.job}}:p0`;
    let pending = 0;
    const poll = setInterval(() => {
      suite.server.client.xpending(unit0, 'd4').then((summary) => (pending = Number((summary as unknown[])[0])), () => {});
    }, 20);
    try {
      // L0 holds an entry of its unit, stopped at the gate.
      await waitFor(() => pending > 0 || watch.settled, 'the unit 0 worker to take an entry');
    } finally {
      clearInterval(poll);
    }
    expect(watch.settled).toBe(false);
    const victim = info!.localWorkers.find((w) => w.consumer === 'L0')!;
    process.kill(victim.pid, 'SIGKILL');
    writeFileSync(gate, '');
    const result = await run;
    expect(sortedNumbers(result.outputs.Identity2.output)).toEqual(range(1, 100));
    expect(result.stats.redelivered).toBeGreaterThanOrEqual(1);
    expect(result.stats.duplicates).toBe(0);
    expect(result.stats.deadWorkers).toEqual(['L0']);
    expect(await allKeys(suite.server.client)).toEqual([]);
  });
});

test('while a job runs, every key carries its job id and an expiry', async () => {
  const gate = join(suite.dir, 'gate');
  process.env.D4_TEST_GATE = gate;
  let info: JobInfo | undefined;
  const run = mappings.hybrid_redis.run(await fixture('gated'), { '*': 30 }, { redisUrl: suite.server.url, quiet: true, numProcesses: 2, onJob: (i: JobInfo) => (info = i) });
  const watch = watchRun(run);
  try {
    await waitFor(() => info !== undefined || watch.settled, 'the job to start');
    // Both workers registered (their control streams and heartbeats exist).
    let registered = 0;
    await waitFor(() => {
      suite.server.client.scard(`d4:{${info!.job}}:workers`).then((n) => (registered = n), () => {});
      return registered === 2 || watch.settled;
    }, 'the workers to register');
    expect(watch.settled).toBe(false);
    const keys = await allKeys(suite.server.client);
    expect(keys.length).toBeGreaterThan(5);
    for (const key of keys) {
      expect(key.startsWith(`d4:{${info!.job}}:`)).toBe(true);
      expect({ key, expires: (await suite.server.client.pttl(key)) > 0 }).toEqual({ key, expires: true });
    }
  } finally {
    writeFileSync(gate, '');
  }
  const result = await run;
  expect(sortedNumbers(result.outputs.Identity2.output)).toEqual(range(1, 30));
  expect(await allKeys(suite.server.client)).toEqual([]);
});

test('hybrid_redis: the worker that holds a stateful unit also runs stateless work', async () => {
  const gate = join(suite.dir, 'gate');
  // Every worker but rank 0 waits at the gate; rank 0 holds RunningTotal's unit and opens the
  // gate only once it has run a GatedIdentity item from the shared group.
  process.env.D4_TEST_GATE = gate;
  process.env.D4_TEST_GATE_OPENER_RANK = '0';
  try {
    const result = await mappings.hybrid_redis.run(await fixture('gatedTotal'), { '*': 60 }, { redisUrl: suite.server.url, quiet: true, numProcesses: 2, batchSize: 5, readCount: 1 });
    const totals = sortedNumbers(result.outputs.RunningTotal2.output);
    expect(totals).toHaveLength(60);
    expect(totals[59]).toBe((60 * 61) / 2);
    const workers = result.stats.workers as { consumer: string; calls: Record<string, number> }[];
    const pinned = workers.find((w) => w.consumer === 'L0')!;
    expect(pinned.calls.RunningTotal2).toBe(60);
    expect(pinned.calls.GatedIdentity1).toBeGreaterThan(0);
  } finally {
    delete process.env.D4_TEST_GATE_OPENER_RANK;
  }
});

test('large values travel in entries of bounded size', async () => {
  // With bulk strings capped at 10 MiB, an entry of 20 values of 1 MiB would be refused by
  // the server: entries are split at 8 MiB.
  await suite.server.client.config('SET', 'proto-max-bulk-len', String(10 * 1024 * 1024));
  try {
    const result = await mappings.dyn_redis.run(await fixture('bigValues'), { '*': 20 }, { redisUrl: suite.server.url, quiet: true, numProcesses: 2, batchSize: 1000 });
    const values = result.outputs.Identity2.output as string[];
    expect(values).toHaveLength(20);
    expect(values.every((v) => v.length === 1024 * 1024)).toBe(true);
  } finally {
    await suite.server.client.config('SET', 'proto-max-bulk-len', String(512 * 1024 * 1024));
  }
  expect(await allKeys(suite.server.client)).toEqual([]);
});

// Rank 0 blocks its main thread for 1.5 s, five heartbeat expiries: its heartbeat thread keeps
// it alive and its entry unclaimed, so nothing is run twice and nobody dies. With -n 3, L0 and
// L2 share a process: L0's PE blocks it, so L2 cannot start on the entry it has read meanwhile,
// and L1, in the other process, must not claim that entry: L2 is alive.
test.each([
  { numProcesses: 2, title: 'a worker whose PE blocks its thread far past the heartbeat expiry is not taken for dead' },
  { numProcesses: 3, title: 'entries read by a worker whose process a PE of another worker keeps busy are not claimed: no duplicate' },
])('$title', async ({ numProcesses }) => {
  process.env.D4_TEST_BLOCK_RANK = '0';
  process.env.D4_TEST_GATE = join(suite.dir, 'gate');
  try {
    const result = await mappings.dyn_redis.run(await fixture('blockingWorker'), { '*': 500 }, {
      redisUrl: suite.server.url,
      quiet: true,
      numProcesses,
      processes: 2,
      batchSize: 5,
      readCount: 1,
      claimIdleMs: 600,
      aliveMs: 300,
    });
    expect(sortedNumbers(result.outputs.Identity2.output)).toEqual(range(1, 500));
    expect(result.stats.duplicates).toBe(0);
    expect(result.stats.redelivered).toBe(0);
    expect(result.stats.deadWorkers).toEqual([]);
  } finally {
    delete process.env.D4_TEST_BLOCK_RANK;
  }
  expect(await allKeys(suite.server.client)).toEqual([]);
});
