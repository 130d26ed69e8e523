import { afterAll, describe, expect, test } from '@jest/globals';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CancelledError, Executor, WorkerCrashedError, type Future } from '../src/index.js';
import { exitWith, holdUntil } from './fixtures/tasks.js';
import { rejectionOf, tempDir, until } from './helpers.js';

// Tasks travel to a worker in batches (flat messages), a fast worker holds up to 512 of them
// (2 048 while the executor's queue is deep), and an idle worker thread waits for the next
// batch on Atomics: what must hold for every task of a batch, on both local backends.

const dir = tempDir();
afterAll(() => dir.cleanup());

function triple(x: number): number {
  return 3 * x + 1;
}

async function later(x: number): Promise<string> {
  await new Promise((resolve) => setTimeout(resolve, 1));
  return `late ${x}`;
}

function failOn7(x: number): number {
  if (x % 50 === 7) throw new RangeError(`no ${x}`);
  return x;
}

/** Leaves a timer behind and returns at once: the timer must still run while the worker is idle. */
async function leaveTimer(file: string): Promise<string> {
  const { writeFileSync: write } = await import('node:fs');
  setTimeout(() => write(file, 'fired'), 20);
  return 'returned';
}

/** Runs fast tasks until the worker is timed, so that it takes batches, not one task at a time. */
async function warm(exe: Executor): Promise<void> {
  const values = await Promise.all(Array.from({ length: 2000 }, (_, i) => exe.submit(triple, i)));
  expect(values[1999]).toBe(5998);
}

describe.each(['thread', 'process'] as const)('batches on the %s backend', (backend) => {
  test('20 000 tiny tasks: every future gets its own exact result, nothing is lost', async () => {
    await using exe = new Executor({ maxWorkers: 2, blockAllocation: true, backend });
    const futures = Array.from({ length: 20_000 }, (_, i) => exe.submit(triple, i));
    const values = await Promise.all(futures);
    expect(values).toEqual(Array.from({ length: 20_000 }, (_, i) => 3 * i + 1));
    expect(exe.pending).toBe(0);
  });

  test('a call with one argument gets exactly that argument, whatever it is, beside calls with none, two, a future and with init', async () => {
    await using exe = new Executor({ maxWorkers: 2, blockAllocation: true, backend });
    await warm(exe);
    // A one-argument call crosses without its list (F_ONE); an argument that is itself a list, or empty, must not be taken for the list.
    const shape = (...args: unknown[]) => JSON.stringify({ n: args.length, args });
    const single: unknown[] = [[1, 2], [], [[3]], { a: [4] }, null, 'text', 0, [null]];
    const futures = single.map((arg) => exe.submit(shape, arg));
    futures.push(exe.submit(shape), exe.submit(shape, 5, [6]), exe.submit(shape, exe.submit(triple, 2)), exe.submit(shape, [exe.submit(triple, 3)]));
    expect(await Promise.all(futures)).toEqual([
      ...single.map((arg) => JSON.stringify({ n: 1, args: [arg] })),
      JSON.stringify({ n: 0, args: [] }),
      JSON.stringify({ n: 2, args: [5, [6]] }),
      JSON.stringify({ n: 1, args: [7] }),
      JSON.stringify({ n: 1, args: [[10]] }),
    ]);
    // With init, a one-argument call's last parameter still takes the init values by name.
    await using withInit = new Executor({ maxWorkers: 1, blockAllocation: true, backend, init: () => ({ k: 3 }) });
    const named = (values: { j: number; k: number }) => values.j * values.k;
    const one = (x: number, values?: { k: number }) => `${x}/${values?.k}`;
    expect(await Promise.all([withInit.submit(named, { j: 2 }), withInit.submit(one, 4)])).toEqual([6, '4/3']);
  });

  test('async and sync tasks interleaved in one batch each get their own result', async () => {
    await using exe = new Executor({ maxWorkers: 2, blockAllocation: true, backend });
    await warm(exe);
    const futures: Future<number | string>[] = [];
    for (let i = 0; i < 300; i++) futures.push(i % 3 === 0 ? exe.submit(later, i) : exe.submit(triple, i));
    expect(await Promise.all(futures)).toEqual(Array.from({ length: 300 }, (_, i) => (i % 3 === 0 ? `late ${i}` : 3 * i + 1)));
  });

  test('a task that throws in a batch fails only its own future', async () => {
    await using exe = new Executor({ maxWorkers: 2, blockAllocation: true, backend });
    await warm(exe);
    const futures = Array.from({ length: 400 }, (_, i) => exe.submit(failOn7, i));
    const outcomes = await Promise.allSettled(futures);
    for (const [i, outcome] of outcomes.entries()) {
      if (i % 50 === 7) {
        expect(outcome.status).toBe('rejected');
        const error = (outcome as PromiseRejectedResult).reason as Error & { code: string };
        expect(error.code).toBe('D4_TASK_FAILED');
        expect(error.message).toContain(`no ${i}`);
      } else {
        expect(outcome).toEqual({ status: 'fulfilled', value: i });
      }
    }
  });

  test('a timer a task leaves behind runs while the worker is idle (the worker does not block its event loop)', async () => {
    await using exe = new Executor({ maxWorkers: 1, blockAllocation: true, backend });
    await warm(exe);
    const file = join(dir.path, `timer-${backend}`);
    expect(await exe.submit(leaveTimer, file)).toBe('returned');
    // No further task is sent: only the worker's own event loop can run the timer.
    await until(() => existsSync(file));
  });

  test('shutdown({ cancelFutures }) with a batch in the worker: the sent tasks finish, the queued ones are cancelled', async () => {
    const exe = new Executor({ maxWorkers: 1, blockAllocation: true, backend });
    await warm(exe);
    const gate = join(dir.path, `gate-shutdown-${backend}`);
    const held = exe.submit(holdUntil, gate, 'held');
    const rest = Array.from({ length: 1500 }, (_, i) => exe.submit(triple, i));
    await until(() => held.running());
    const sent = rest.map((f) => f.running());
    // Part of the burst went to the worker behind the held task, the rest waits here.
    expect(sent.filter(Boolean).length).toBeGreaterThan(0);
    expect(sent.filter((s) => !s).length).toBeGreaterThan(0);
    const done = exe.shutdown({ cancelFutures: true });
    writeFileSync(gate, '');
    await done;
    expect(await held).toBe('held');
    for (const [i, future] of rest.entries()) {
      if (sent[i]) expect(await future).toBe(3 * i + 1);
      else expect(await rejectionOf(future)).toBeInstanceOf(CancelledError);
    }
  });

  test('cancel() of a task in a batch stops the worker; every other task of the batch still gets its result', async () => {
    await using exe = new Executor({ maxWorkers: 1, blockAllocation: true, backend });
    await warm(exe);
    const gate = join(dir.path, `gate-cancel-${backend}`);
    const held = exe.submit(holdUntil, gate, 'held');
    const rest = Array.from({ length: 100 }, (_, i) => exe.submit(triple, i));
    await until(() => held.running() && rest[50].running());
    expect(rest[50].cancel()).toBe(true);
    writeFileSync(gate, '');
    expect(await rejectionOf(rest[50])).toBeInstanceOf(CancelledError);
    expect(await held).toBe('held');
    const others = await Promise.all(rest.filter((_, i) => i !== 50));
    expect(others).toEqual(Array.from({ length: 100 }, (_, i) => 3 * i + 1).filter((_, i) => i !== 50));
  });
});

describe('a worker crash with a batch in flight', () => {
  test('thread: only the task that was running is blamed; the rest of the batch is resubmitted and each gets its result once', async () => {
    await using exe = new Executor({ maxWorkers: 1, blockAllocation: true, backend: 'thread' });
    await warm(exe);
    const before = Array.from({ length: 30 }, (_, i) => exe.submit(triple, i));
    const crash = exe.submit(exitWith, 9);
    const after = Array.from({ length: 30 }, (_, i) => exe.submit(triple, 100 + i));
    const error = await rejectionOf(crash);
    expect(error).toBeInstanceOf(WorkerCrashedError);
    expect(error.message).toContain(`task #${crash.id} (exitWith)`);
    expect(error.message).toContain('exited with code 9');
    expect(await Promise.all(before)).toEqual(Array.from({ length: 30 }, (_, i) => 3 * i + 1));
    expect(await Promise.all(after)).toEqual(Array.from({ length: 30 }, (_, i) => 3 * (100 + i) + 1));
  });

  test('thread: with maxRetries the crashing task is run again and fails after 1 + maxRetries runs; the others succeed', async () => {
    await using exe = new Executor({ maxWorkers: 1, blockAllocation: true, backend: 'thread', maxRetries: 1 });
    await warm(exe);
    const others = Array.from({ length: 40 }, (_, i) => exe.submit(triple, i));
    const crash = exe.submit(exitWith, 5);
    const error = await rejectionOf(crash);
    expect(error.code).toBe('D4_WORKER_CRASHED');
    expect(error.message).toContain('ran 2 time(s) (maxRetries 1)');
    expect(await Promise.all(others)).toEqual(Array.from({ length: 40 }, (_, i) => 3 * i + 1));
  });
});
