import { afterAll, describe, expect, test } from '@jest/globals';
import { realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Executor, ResourceError, THREAD_ENV_VARS } from '../src/index.js';
import { add, cwdNow, envOf, holdUntil } from './fixtures/tasks.js';
import { tempDir, until } from './helpers.js';

const dir = tempDir();
afterAll(() => dir.cleanup());

describe('resource scheduler (fresh worker per task)', () => {
  test('a large task at the head of the queue does not block smaller ones that fit', async () => {
    await using exe = new Executor({ maxCores: 3 });
    const gateA = join(dir.path, 'gate-a');
    const gateB = join(dir.path, 'gate-b');
    const big1 = exe.submitWith({ cores: 2 }, holdUntil, gateA, 'big1'); // takes 2 of 3 cores
    const big2 = exe.submitWith({ cores: 2 }, holdUntil, gateB, 'big2'); // must wait: 1 core free
    const small = exe.submitWith({ cores: 1 }, add, 1, 2); // fits beside big1
    expect(await small).toBe(3);
    expect(big1.running()).toBe(true);
    expect(big2.running()).toBe(false);
    expect(big2.done()).toBe(false);
    writeFileSync(gateA, '');
    expect(await big1).toBe('big1');
    await until(() => big2.running());
    writeFileSync(gateB, '');
    expect(await big2).toBe('big2');
  });

  test('tasks wait for free cores: never more cores in use than maxCores', async () => {
    await using exe = new Executor({ maxCores: 2 });
    const gate = join(dir.path, 'gate-cores');
    const held = [exe.submit(holdUntil, gate, 'a'), exe.submit(holdUntil, gate, 'b')];
    const third = exe.submit(holdUntil, gate, 'c');
    await until(() => held.every((f) => f.running()));
    expect(third.running()).toBe(false);
    writeFileSync(gate, '');
    expect(await Promise.all([...held, third])).toEqual(['a', 'b', 'c']);
  });

  test('maxWorkers also bounds the workers at a time when cores are left', async () => {
    await using exe = new Executor({ maxWorkers: 1, maxCores: 4 });
    const gate = join(dir.path, 'gate-workers');
    const first = exe.submit(holdUntil, gate, 'first');
    const second = exe.submit(add, 1, 2);
    await until(() => first.running());
    expect(second.running()).toBe(false);
    expect(second.done()).toBe(false);
    writeFileSync(gate, '');
    expect(await Promise.all([first, second])).toEqual(['first', 3]);
  });

  test('a task asking for more cores than the executor has is refused at submit', () => {
    const exe = new Executor({ maxCores: 2 });
    expect(() => exe.submitWith({ cores: 3 }, add, 1, 2)).toThrow(ResourceError);
    void exe.shutdown();
  });
});

describe('worker environment', () => {
  test('threadsPerCore sets the thread variables of OpenMP, OpenBLAS, MKL, Accelerate and numexpr to threads × cores', async () => {
    await using exe = new Executor({ maxCores: 2, threadsPerCore: 2 });
    const one = await exe.submit(envOf, [...THREAD_ENV_VARS]);
    expect(one).toEqual(Object.fromEntries(THREAD_ENV_VARS.map((n) => [n, '2'])));
    const two = await exe.submitWith({ cores: 2, threadsPerCore: 3 }, envOf, ['OMP_NUM_THREADS']);
    expect(two).toEqual({ OMP_NUM_THREADS: '6' });
  });

  test('gpusPerWorker gives each block worker its own CUDA_VISIBLE_DEVICES', async () => {
    await using exe = new Executor({ maxWorkers: 2, blockAllocation: true, gpusPerWorker: 1, gpus: ['0', '1'] });
    const gate = join(dir.path, 'gate-gpu');
    // Both tasks hold their worker, so they run on different workers.
    const held = [exe.submit(holdUntil, gate, 'x'), exe.submit(holdUntil, gate, 'y')];
    await until(() => held.every((f) => f.running()));
    writeFileSync(gate, '');
    await Promise.all(held);
    const seen = await Promise.all([exe.submit(envOf, ['CUDA_VISIBLE_DEVICES']), exe.submit(envOf, ['CUDA_VISIBLE_DEVICES'])]);
    expect(new Set(seen.map((e) => e.CUDA_VISIBLE_DEVICES))).toEqual(new Set(['0', '1']));
  });

  test('gpusPerCore on a call takes that many GPUs per core from the pool', async () => {
    await using exe = new Executor({ maxCores: 2, gpus: [4, 5, 6] });
    expect(await exe.submitWith({ cores: 1, gpusPerCore: 2 }, envOf, ['CUDA_VISIBLE_DEVICES'])).toEqual({ CUDA_VISIBLE_DEVICES: '4,5' });
    expect(() => exe.submitWith({ cores: 2, gpusPerCore: 2 }, envOf, [])).toThrow(ResourceError);
  });

  test('without gpus or gpusPerWorker, workers keep the caller\'s CUDA_VISIBLE_DEVICES and stay threads', async () => {
    const saved = process.env.CUDA_VISIBLE_DEVICES;
    process.env.CUDA_VISIBLE_DEVICES = '7';
    try {
      await using exe = new Executor({ maxWorkers: 1, blockAllocation: true });
      const where = await exe.submit(async () => ({ cuda: process.env.CUDA_VISIBLE_DEVICES, thread: !(await import('node:worker_threads')).isMainThread }));
      expect(where).toEqual({ cuda: '7', thread: true });
    } finally {
      if (saved === undefined) delete process.env.CUDA_VISIBLE_DEVICES;
      else process.env.CUDA_VISIBLE_DEVICES = saved;
    }
  });

  test('cwd sets the working directory of the workers, and per call', async () => {
    const other = join(dir.path, 'elsewhere');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(other);
    await using exe = new Executor({ maxCores: 1, cwd: dir.path });
    expect(await exe.submit(cwdNow)).toBe(realpathSync(dir.path));
    expect(await exe.submitWith({ cwd: other }, cwdNow)).toBe(realpathSync(other));
  });

  test('cwd with the thread backend is refused with what to do', () => {
    expect(() => new Executor({ backend: 'thread', cwd: dir.path })).toThrow(/backend 'process'/);
  });
});
