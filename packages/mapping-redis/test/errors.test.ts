import { spawn } from 'node:child_process';
import { describe, expect, test } from '@jest/globals';
import { CodecError, PEError, ProcessAssignmentError, WorkflowGraph, WorkflowLoadError, D4Error, type LogFn } from '@d4/core';
import { conformanceGraphsModule } from '@d4/runtime/conformance';
import { CountingProducer, Identity } from '@d4/core/conformance/graphs';
import { loadWorkflow } from '@d4/core';
import { mappings } from '../src/index.js';
import { allKeys, freePort, startRedis } from './redis-server.js';
import { useRedisSuite } from './redis-suite.js';
import { driverScript, fixture, fixtures, range, sortedNumbers } from './helpers.js';

const suite = useRedisSuite();

const base = () => ({ redisUrl: suite.server.url, quiet: true, numProcesses: 2 });

describe('refused before any work', () => {
  test('an unreachable server', async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    const error = await mappings.dyn_redis.run(await fixture('gated'), { '*': 3 }, { ...base(), redisUrl: url }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(D4Error);
    expect(error).toMatchObject({ code: 'D4_REDIS_UNREACHABLE', message: expect.stringContaining(url) });
    expect((error as Error).message).toMatch(/ECONNREFUSED/);
  });

  test('a wrong password, with the password hidden in the message', async () => {
    const secured = await startRedis(['--requirepass', 's3cret']);
    try {
      const url = `redis://:wrong@127.0.0.1:${secured.port}`;
      const error = await mappings.dyn_redis.run(await fixture('gated'), { '*': 3 }, { ...base(), redisUrl: url }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'D4_REDIS_AUTH', message: expect.stringContaining('redis://:PASSWORD@host:port/db') });
      expect((error as Error).message).not.toContain('wrong');
      // The right password in the URL works.
      const result = await mappings.dyn_redis.run(await fixture('gated'), { '*': 20 }, { ...base(), redisUrl: secured.url });
      expect(sortedNumbers(result.outputs.Identity2.output)).toEqual(range(1, 20));
      expect(await secured.client.dbsize()).toBe(0);
    } finally {
      await secured.stop();
    }
  });

  test('an eviction policy that can drop stream entries', async () => {
    await suite.server.client.config('SET', 'maxmemory-policy', 'allkeys-lru');
    try {
      await expect(mappings.hybrid_redis.run(await fixture('gated'), { '*': 3 }, base())).rejects.toMatchObject({
        code: 'D4_REDIS_EVICTION',
        message: expect.stringContaining('CONFIG SET maxmemory-policy noeviction'),
      });
    } finally {
      await suite.server.client.config('SET', 'maxmemory-policy', 'noeviction');
    }
    expect(await allKeys(suite.server.client)).toEqual([]);
  });

  test('a URL that is not redis:// or rediss://', async () => {
    await expect(mappings.dyn_redis.run(await fixture('gated'), {}, { ...base(), redisUrl: 'http://127.0.0.1:6379' })).rejects.toMatchObject({ code: 'D4_REDIS_URL' });
  });

  test('hybrid_redis with -n below the pinned instances the stateful PEs need', async () => {
    // broadcast: SeeAll has numprocesses 3 and grouping 'all'.
    const error = await mappings.hybrid_redis.run(await loadWorkflow(conformanceGraphsModule, { exportName: 'broadcast' }), { '*': 5 }, { ...base(), numProcesses: 2 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProcessAssignmentError);
    expect(error).toMatchObject({ code: 'D4_TOO_FEW_PROCESSES', required: 3, message: expect.stringContaining('use -n 3 or more') });
  });

  test('an inline graph, which workers could not rebuild', async () => {
    const graph = new WorkflowGraph();
    graph.connect(new CountingProducer(), 'output', new Identity(), 'input');
    await expect(mappings.dyn_redis.run(graph, { '*': 3 }, base())).rejects.toMatchObject({ code: 'D4_WORKFLOW_NOT_A_MODULE' });
  });

  test('worker() for a job that does not exist', async () => {
    await expect(mappings.dyn_redis.worker!({ redisUrl: suite.server.url, job: 'nosuchjob' })).rejects.toMatchObject({ code: 'D4_REDIS_NO_JOB' });
    await expect(mappings.dyn_redis.worker!({ redisUrl: suite.server.url })).rejects.toMatchObject({ code: 'D4_REDIS_JOB_OPTION' });
  });
});

describe.each(['redis', 'dyn_redis', 'dyn_auto_redis', 'hybrid_redis'] as const)('%s', (name) => {
  test('a PE that throws fails the run with PEError and leaves no key', async () => {
    const error = await mappings[name].run(await fixture('failing'), { '*': 20 }, { ...base(), numProcesses: 3 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PEError);
    expect(error).toMatchObject({ code: 'D4_PE_FAILED', peId: 'Thrower1', item: { input: 7 }, message: expect.stringContaining('seven is not allowed') });
    expect((error as PEError).peStack).toContain('Thrower');
    expect(await allKeys(suite.server.client)).toEqual([]);
  });

  test('a PE that calls process.exit fails the run naming the PE, the item and the exit code', async () => {
    const error = await mappings[name].run(await fixture('exiting'), { '*': 20 }, { ...base(), numProcesses: 3 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PEError);
    expect(error).toMatchObject({ code: 'D4_PE_FAILED', peId: 'Exits1', item: { input: 7 } });
    expect((error as Error).message).toMatch(/^PE Exits1 failed while processing \{"input":7\}: called process\.exit\(3\), which ended worker L\d's process \(pid \d+, exit code 3\); a PE must not end its process/);
    expect(await allKeys(suite.server.client)).toEqual([]);
  });

  test('preprocess, postprocess and log run in every instance, postprocess writes are delivered', async () => {
    const lines: string[] = [];
    const log: LogFn = (peId, _instance, message) => lines.push(`${peId}:${message}`);
    const result = await mappings[name].run(await fixture('lifecycle'), { '*': 50 }, { ...base(), numProcesses: 4, log });
    expect(sortedNumbers(result.outputs.Identity2.output)).toEqual(range(1, 50));
    // Each Lifecycle instance wrote its count in postprocess; SumCounts added them up after.
    expect(sortedNumbers(result.outputs.SumCounts3.output).reduce((a, b) => a + b, 0)).toBe(50);
    const pre = lines.filter((l) => l === 'Lifecycle1:pre').length;
    expect(pre).toBeGreaterThanOrEqual(1);
    expect(lines.filter((l) => l === 'Lifecycle1:post').length).toBe(pre);
    expect(result.stats.pes.Lifecycle1.instances).toBe(pre);
    expect(result.stats.pes.Lifecycle1.calls).toBe(50);
    expect(await allKeys(suite.server.client)).toEqual([]);
  });
});

test('bad input is refused before any key is written', async () => {
  const error = await mappings.dyn_redis.run(await fixture('failing'), { CountingProducer0: 'x' as unknown as number }, base()).catch((e: unknown) => e);
  expect(error).toMatchObject({ code: 'D4_INPUT_VALUE' });
  expect(await allKeys(suite.server.client)).toEqual([]);
});

test('dyn_auto_redis reports active workers over time, between 1 and -n', async () => {
  // 120 items of 25 ms: 3 s of source, so that workers that took a second or two to start
  // on a loaded machine still idle long after they joined (with 40 items they sometimes
  // joined after the source had finished, and never idled).
  const result = await mappings.dyn_auto_redis.run(await fixture('slowSource'), { '*': 120 }, { ...base(), numProcesses: 3, idleThreshold: 20 });
  expect(sortedNumbers(result.outputs.Identity2.output)).toEqual(range(1, 120));
  const timeline = result.stats.activeWorkers as { atMs: number; active: number }[];
  expect(timeline[0]).toEqual({ atMs: 0, active: 3 });
  for (const point of timeline) expect(point.active).toBeGreaterThanOrEqual(1);
  for (const point of timeline) expect(point.active).toBeLessThanOrEqual(3);
  // The source takes 25 ms per item, the workers microseconds: they idle above 20 ms and shrink.
  expect(Math.min(...timeline.map((p) => p.active))).toBeLessThan(3);
});

test('a source that throws (sources run in the driver) fails the run with PEError and leaves no key', async () => {
  const error = await mappings.hybrid_redis.run(await fixture('failingRoot'), { '*': 20 }, base()).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(PEError);
  expect(error).toMatchObject({ code: 'D4_PE_FAILED', peId: 'FailingSource0', message: expect.stringContaining('the source broke') });
  expect(await allKeys(suite.server.client)).toEqual([]);
});

test('a value the codec cannot carry fails the run with CodecError naming the PE and port', async () => {
  const error = await mappings.dyn_redis.run(await fixture('uncarriable'), { '*': 10 }, base()).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(CodecError);
  expect(error).toMatchObject({ code: 'D4_CODEC', message: expect.stringContaining("PE WritesFunction1 wrote to port 'output'") });
  expect(await allKeys(suite.server.client)).toEqual([]);
});

test('an aborted run rejects with D4_ABORTED and leaves no key', async () => {
  const controller = new AbortController();
  const run = mappings.hybrid_redis.run(await fixture('slowSource'), { '*': 400 }, { ...base(), signal: controller.signal, onJob: () => setTimeout(() => controller.abort('enough'), 200) });
  await expect(run).rejects.toMatchObject({ code: 'D4_ABORTED' });
  expect(await allKeys(suite.server.client)).toEqual([]);
});

test('a server that goes away mid-run fails the run with D4_REDIS_LOST, said once in d4\'s words', async () => {
  const doomed = await startRedis();
  let stopped: Promise<void> | undefined;
  // The driver in a process of its own: its stderr holds what the driver and every one of
  // its workers print.
  const child = spawn(process.execPath, [driverScript, 'dyn_redis', doomed.url, fixtures, 'slowSource', '400', '4'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (text: string) => {
    stderr += text;
    if (!stopped && stderr.includes(' job ')) setTimeout(() => (stopped = doomed.stop()), 300);
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  await stopped;
  expect(code).toBe(1);
  const lines = stderr.trim().split('\n');
  // The job line, then one message: the driver's.
  expect(lines).toHaveLength(2);
  expect(lines[0]).toContain(`d4 dyn_redis: job `);
  expect(lines[1]).toMatch(/^d4: the driver lost its connection to Redis at redis:\/\/127\.0\.0\.1:\d+\/? during job \w+ \(.*\); the job's items were in that server, so the run stops: check that redis-server is running there and reachable .*, then run again \(D4_REDIS_LOST\)$/);
  expect(lines[1]).toContain(doomed.url);
  expect(stderr).not.toMatch(/maxRetriesPerRequest|max retries|Connection is closed|ioredis/i);
});

test('the database number in the URL is the one used', async () => {
  const db5 = suite.server.client.duplicate({ db: 5 });
  try {
    let inDb5: Promise<number> | undefined;
    let inDb0: Promise<number> | undefined;
    const result = await mappings.dyn_redis.run(await fixture('gated'), { '*': 10 }, {
      ...base(),
      redisUrl: `${suite.server.url}/5`,
      // The job exists from onJob until the run ends (its workers are still starting).
      onJob: (info: { job: string }) => {
        inDb5 = db5.exists(`d4:{${info.job}}:meta`);
        inDb0 = suite.server.client.exists(`d4:{${info.job}}:meta`);
      },
    });
    expect(sortedNumbers(result.outputs.Identity2.output)).toEqual(range(1, 10));
    expect(await inDb5).toBe(1);
    expect(await inDb0).toBe(0);
    expect(await db5.dbsize()).toBe(0);
  } finally {
    db5.disconnect();
  }
});

test('progress counters move with the workers\' calls', async () => {
  const progress = { calls: {} as Record<string, number> };
  const result = await mappings.hybrid_redis.run(await fixture('lifecycle'), { '*': 40 }, { ...base(), progress });
  expect(progress.calls).toEqual({ CountingProducer0: 40, Lifecycle1: 40, Identity2: 40, SumCounts3: result.stats.pes.SumCounts3.calls });
});

test('a postprocess() that throws in a worker fails the run with PEError for that phase', async () => {
  const error = await mappings.redis.run(await fixture('failingPostprocess'), { '*': 10 }, { ...base(), numProcesses: 3 }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(PEError);
  expect(error).toMatchObject({ code: 'D4_PE_FAILED', peId: 'FailsAtEnd1', message: 'PE FailsAtEnd1 failed in postprocess(): cannot finish' });
  expect(await allKeys(suite.server.client)).toEqual([]);
});

test('workers wait for a driver that a long source call blocks (beyond their own heartbeat)', async () => {
  const result = await mappings.dyn_redis.run(await fixture('blockingSource'), { '*': 10 }, { ...base(), aliveMs: 300 });
  expect(sortedNumbers(result.outputs.Identity1.output)).toEqual(range(1, 10));
  expect(result.stats.deadWorkers).toEqual([]);
});

test('a module that builds another graph in the workers is refused with D4_WORKFLOW_MISMATCH, as the same class on every mapping', async () => {
  for (const name of ['dyn_redis', 'redis'] as const) {
    const error = await mappings[name].run(await fixture('differsInWorkers'), { '*': 5 }, base()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowLoadError);
    expect(error).toMatchObject({ code: 'D4_WORKFLOW_MISMATCH', message: expect.stringMatching(/^worker L\d could not rebuild the workflow: the workflow rebuilt from .* has PEs CountingProducer0, Identity1, Identity2, but the job was planned with CountingProducer0, Identity1;/) });
  }
});
