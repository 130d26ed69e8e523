import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from '@jest/globals';
import { mappings } from '../src/index.js';
import type { JobInfo } from '../src/driver.js';
import { allKeys } from './redis-server.js';
import { GATED, spawnJoiner, useRedisSuite, watchRun, type Joiner } from './redis-suite.js';
import { fixture, range, sortedNumbers, waitFor } from './helpers.js';

/** A worker's death and the redelivery of its entries are said on stderr when they happen. */
const suite = useRedisSuite('d4-notice-');
let restoreStderr: (() => void) | undefined;
afterEach(() => restoreStderr?.());

/** What the driver (this process) writes on stderr; the workers' own stderr is not in it. */
function captureStderr(): string[] {
  const lines: string[] = [];
  const original = process.stderr.write;
  process.stderr.write = ((chunk: string | Uint8Array) => {
    lines.push(...String(chunk).split('\n').filter(Boolean));
    return true;
  }) as typeof process.stderr.write;
  restoreStderr = () => {
    process.stderr.write = original;
    restoreStderr = undefined;
  };
  return lines;
}

/** Entries pending for a consumer on a stream of the job. */
async function pendingOf(stream: string, consumer: string): Promise<number> {
  const summary = (await suite.server.client.xpending(stream, 'd4')) as [number, string, string, [string, string][] | null];
  return Number((summary[3] ?? []).find(([c]) => c === consumer)?.[1] ?? 0);
}

describe.each([
  ['dyn_redis', 's', ''],
  ['redis', 'p0', ' \\(unit 0\\)'],
] as const)('%s', (name, stream, unit) => {
  test('a local worker killed mid-run: its death, then the takeover of its entries', async () => {
    // The workers hold their entries at the gate; L0 is killed with one in hand.
    process.env.D4_TEST_GATE = join(suite.dir, 'gate');
    let info: JobInfo | undefined;
    const lines = captureStderr();
    const run = mappings[name].run(await fixture('gated'), { '*': 100 }, {
      redisUrl: suite.server.url,
      // -n 3 in redis: the source in the driver, unit 0 (GatedIdentity1) in L0, unit 1 in L1.
      numProcesses: name === 'redis' ? 3 : 2,
      processes: 2,
      ...GATED,
      onJob: (i: JobInfo) => (info = i),
    });
    const watch = watchRun(run);
    await waitFor(() => info !== undefined || watch.settled, 'the job to start');
    const key = `d4:{${info!.job}}:${stream}`;
    let held = 0;
    await waitFor(() => {
      pendingOf(key, 'L0').then((n) => (held = n), () => {});
      return held > 0 || watch.settled;
    }, 'L0 to hold an entry');
    expect(watch.settled).toBe(false);
    const victim = info!.localWorkers.find((w) => w.consumer === 'L0')!;
    process.kill(victim.pid, 'SIGKILL');
    writeFileSync(process.env.D4_TEST_GATE, '');
    const result = await run;
    restoreStderr!();
    expect(sortedNumbers(result.outputs.Identity2.output)).toEqual(range(1, 100));
    const notices = lines.filter((l) => !l.includes(' job '));
    expect(notices).toHaveLength(2);
    expect(notices[0]).toMatch(
      new RegExp(`^d4 ${name}: worker L0 \\(pid ${victim.pid}\\) died \\(SIGKILL\\); its 1 pending entry will be redelivered after --claim-idle \\(300 ms\\)${name === 'redis' ? '; its unit 0 goes to another worker' : ''}$`),
    );
    expect(notices[1]).toMatch(new RegExp(`^d4 ${name}: worker L\\d took over 1 entry of L0${unit}, [1-5] items? to run again$`));
    expect(await allKeys(suite.server.client)).toEqual([]);
  });
});

test('a joined worker killed mid-run: its heartbeat stops, then another takes over its entry', async () => {
  // The local workers wait at the gate; the joiner takes an entry and hangs with it.
  const gate = join(suite.dir, 'gate');
  const marker = join(suite.dir, 'hang');
  process.env.D4_TEST_GATE = gate;
  let joiner: Joiner | undefined;
  const lines = captureStderr();
  const run = mappings.dyn_redis.run(await fixture('gated'), { '*': 100 }, {
    redisUrl: suite.server.url,
    numProcesses: 2,
    batchSize: 5,
    readCount: 1,
    // The heartbeat expires after 500 ms, the entry can be claimed after 1000 ms.
    claimIdleMs: 1000,
    onJob: (info: JobInfo) => {
      joiner = spawnJoiner('dyn_redis', suite.server.url, info.job, { D4_TEST_HANG_MARKER: marker }, 'ignore');
    },
  });
  const watch = watchRun(run);
  // The marker exists a moment before its pid is written: wait for the pid.
  await waitFor(() => (existsSync(marker) && readFileSync(marker, 'utf8') !== '') || watch.settled, 'the joining worker to take an entry');
  expect(watch.settled).toBe(false);
  expect(Number(readFileSync(marker, 'utf8'))).toBe(joiner!.pid);
  process.kill(joiner!.pid, 'SIGKILL');
  await joiner!.exit;
  writeFileSync(gate, '');
  const result = await run;
  restoreStderr!();
  expect(sortedNumbers(result.outputs.Identity2.output)).toEqual(range(1, 100));
  const name = (result.stats.deadWorkers as string[])[0];
  expect(name).toContain(`-${joiner!.pid}-`);
  const notices = lines.filter((l) => !l.includes(' job '));
  expect(notices).toEqual([
    `d4 dyn_redis: worker ${name} stopped renewing its heartbeat (killed, frozen, or cut off from Redis); its 1 pending entry will be redelivered after --claim-idle (1000 ms)`,
    expect.stringMatching(new RegExp(`^d4 dyn_redis: worker L\\d took over 1 entry of ${name}, [1-5] items? to run again$`)),
  ]);
  expect(await allKeys(suite.server.client)).toEqual([]);
});
