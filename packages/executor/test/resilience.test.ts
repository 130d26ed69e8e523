import { afterAll, describe, expect, test } from '@jest/globals';
import { join } from 'node:path';
import { Executor, TaskTimeoutError, WorkerCrashedError, CancelledError } from '../src/index.js';
import { add, crashOnce, exitWith, killSelf, spin } from './fixtures/tasks.js';
import { rejectionOf, tempDir, until } from './helpers.js';

const dir = tempDir();
afterAll(() => dir.cleanup());

describe.each(['thread', 'process'] as const)('timeouts, cancellation and crashes (%s workers)', (backend) => {
  test('a task over its timeout fails with D4_TASK_TIMEOUT; the worker is replaced and the next task runs', async () => {
    await using exe = new Executor({ maxWorkers: 1, blockAllocation: true, backend });
    const queuedBehind = exe.submit(add, 1, 1);
    const stuck = exe.submitWith({ timeout: 200 }, spin);
    const after = exe.submit(add, 2, 3);
    const error = await rejectionOf(stuck);
    expect(error).toBeInstanceOf(TaskTimeoutError);
    expect(error.code).toBe('D4_TASK_TIMEOUT');
    expect(error.message).toContain('timeout of 200 ms');
    expect(await queuedBehind).toBe(2);
    expect(await after).toBe(5);
  });

  test('without block allocation a timed-out task is stopped too', async () => {
    await using exe = new Executor({ maxWorkers: 1, backend });
    expect((await rejectionOf(exe.submitWith({ timeout: 200 }, spin))).code).toBe('D4_TASK_TIMEOUT');
    expect(await exe.submit(add, 1, 2)).toBe(3);
  });

  test('cancel() of a running task stops its worker; the tasks behind it still run', async () => {
    await using exe = new Executor({ maxWorkers: 1, blockAllocation: true, backend });
    const forever = exe.submit(spin);
    const behind = [exe.submit(add, 1, 2), exe.submit(add, 3, 4)];
    await until(() => forever.running());
    expect(forever.cancel()).toBe(true);
    expect(forever.cancelled()).toBe(true);
    expect(await rejectionOf(forever)).toBeInstanceOf(CancelledError);
    expect(await Promise.all(behind)).toEqual([3, 7]);
  });

  test('without block allocation cancel() of a running task stops its worker and frees its cores', async () => {
    await using exe = new Executor({ maxCores: 1, backend });
    const forever = exe.submit(spin);
    const next = exe.submit(add, 5, 5);
    await until(() => forever.running());
    expect(next.running()).toBe(false);
    expect(forever.cancel()).toBe(true);
    expect(await next).toBe(10);
  });

  test('a worker that exits fails its task with D4_WORKER_CRASHED and is replaced', async () => {
    await using exe = new Executor({ maxWorkers: 1, blockAllocation: true, backend });
    const error = await rejectionOf(exe.submit(exitWith, 3));
    expect(error).toBeInstanceOf(WorkerCrashedError);
    expect(error.code).toBe('D4_WORKER_CRASHED');
    expect(error.message).toContain('exited with code 3');
    expect(error.message).toContain('exitWith');
    expect(await exe.submit(add, 20, 22)).toBe(42);
  });

  test('a crashed task is retried up to maxRetries times', async () => {
    await using exe = new Executor({ maxWorkers: 1, blockAllocation: true, backend, maxRetries: 1 });
    expect(await exe.submit(crashOnce, join(dir.path, `marker-${backend}`))).toBe('recovered');
    // Always crashing: tried 1 + maxRetries times, then failed.
    const error = await rejectionOf(exe.submit(exitWith, 4));
    expect(error.code).toBe('D4_WORKER_CRASHED');
    expect(error.message).toContain('ran 2 time(s) (maxRetries 1)');
  });
});

test('a process worker killed by a signal fails its task with D4_WORKER_CRASHED naming the signal', async () => {
  await using exe = new Executor({ maxWorkers: 1, blockAllocation: true, backend: 'process' });
  const error = await rejectionOf(exe.submit(killSelf));
  expect(error.code).toBe('D4_WORKER_CRASHED');
  expect(error.message).toContain('killed by SIGKILL');
  expect(await exe.submit(add, 1, 1)).toBe(2);
});
