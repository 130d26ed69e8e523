import { afterAll, describe, expect, test } from '@jest/globals';
import { fileURLToPath } from 'node:url';
import { Executor, Future, taskRef, CancelledError, DependencyError, TaskError, ExecutorShutdownError, ResourceError, TaskFunctionError, InitError } from '../src/index.js';
import { add, fail, failWhenOpen, holdUntil } from './fixtures/tasks.js';
import { misnamed } from './fixtures/misnamed.js';
import { rejectionOf, tempDir, until } from './helpers.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const fixtures = fileURLToPath(new URL('./fixtures/tasks.ts', import.meta.url));
const dir = tempDir();
afterAll(() => dir.cleanup());

function double(x: number): number {
  return 2 * x;
}
function total(parts: unknown): number {
  // Sums every number found in arrays, plain objects and Maps.
  const walk = (v: unknown): number =>
    typeof v === 'number' ? v : Array.isArray(v) ? v.reduce((s: number, x) => s + walk(x), 0) : v instanceof Map ? [...v.values()].reduce((s: number, x) => s + walk(x), 0) : v && typeof v === 'object' ? Object.values(v).reduce((s: number, x) => s + walk(x), 0) : 0;
  return walk(parts);
}

describe('functions crossing to workers', () => {
  const exe = new Executor({ maxWorkers: 2, blockAllocation: true });
  afterAll(() => exe.shutdown());

  test('a self-contained function crosses by source; arrow functions and methods too', async () => {
    const methods = {
      triple(x: number) {
        return 3 * x;
      },
    };
    expect(await exe.submit(double, 21)).toBe(42);
    expect(await exe.submit((a: number, b: number) => a * b, 6, 7)).toBe(42);
    expect(await exe.submit(methods.triple, 3)).toBe(9);
    expect(await exe.submit(async (x: number) => x + 1, 1)).toBe(2);
  });

  test('a self-contained function may import built-ins dynamically', async () => {
    const cpuCount = async () => (await import('node:os')).cpus().length > 0;
    expect(await exe.submit(cpuCount)).toBe(true);
  });

  test('a function marked with task() crosses by reference (it uses imports)', async () => {
    expect(await exe.submit(add, 40, 2)).toBe(42);
  });

  test('taskRef(path, export) names a function without importing it here', async () => {
    expect(await exe.submit(taskRef<(a: number, b: number) => number>(fixtures, 'add'), 1, 2)).toBe(3);
  });

  test('a function that closes over a variable fails with D4_TASK_NOT_SELF_CONTAINED naming the variable', async () => {
    const offset = 10;
    const addOffset = (x: number) => x + offset;
    const error = await rejectionOf(exe.submit(addOffset, 1));
    expect(error).toBeInstanceOf(TaskFunctionError);
    expect(error.code).toBe('D4_TASK_NOT_SELF_CONTAINED');
    expect(error.message).toContain("uses 'offset'");
    expect(error.message).toContain('task(import.meta.url');
  });

  test('catching the scope error inside the function does not turn it into a wrong result', async () => {
    const secret = 5;
    const sneaky = () => {
      try {
        return secret;
      } catch {
        return -1;
      }
    };
    expect((await rejectionOf(exe.submit(sneaky))).code).toBe('D4_TASK_NOT_SELF_CONTAINED');
  });

  test('built-in and bound functions are refused with D4_TASK_NOT_SHIPPABLE', async () => {
    expect((await rejectionOf(exe.submit(Math.max, 1, 2))).code).toBe('D4_TASK_NOT_SHIPPABLE');
    expect((await rejectionOf(exe.submit(double.bind(null), 1))).code).toBe('D4_TASK_NOT_SHIPPABLE');
  });

  test('a missing export or module fails with D4_TASK_EXPORT / D4_TASK_IMPORT', async () => {
    const noExport = await rejectionOf(exe.submit(taskRef(fixtures, 'nope')));
    expect(noExport.code).toBe('D4_TASK_EXPORT');
    expect(noExport.message).toContain("no exported function 'nope'");
    expect((await rejectionOf(exe.submit(taskRef(fixtures, 'notAFunction')))).code).toBe('D4_TASK_EXPORT');
    expect((await rejectionOf(exe.submit(taskRef(join(dir.path, 'missing.ts'), 'x')))).code).toBe('D4_TASK_IMPORT');
  });

  test('a task() marked with another export\'s name is refused, not run as that other function', async () => {
    const error = await rejectionOf(exe.submit(misnamed, 5, 3));
    expect(error.code).toBe('D4_TASK_EXPORT');
    expect(error.message).toContain("'add' and 'misnamed'");
    const reverse = await rejectionOf(exe.submit(taskRef(fixtures.replace('tasks.ts', 'misnamed.ts'), 'misnamed'), 5, 3));
    expect(reverse.code).toBe('D4_TASK_EXPORT');
    expect(reverse.message).toContain("marked as task(…, 'add', …)");
  });

  test('a task that throws fails with D4_TASK_FAILED; the remote error is the cause', async () => {
    const error = await rejectionOf(exe.submit(fail, 'bad input'));
    expect(error).toBeInstanceOf(TaskError);
    expect(error.code).toBe('D4_TASK_FAILED');
    expect(error.message).toContain('RangeError: bad input');
    expect((error.cause as Error).name).toBe('RangeError');
    expect((error.cause as Error).message).toBe('bad input');
  });

  test('arguments and results carry Map, Set, Date and bigint', async () => {
    // (Typed arrays cross too, but jest's separate realm hides them from the codec in this test.)
    const echo = (v: unknown) => v;
    const value = { m: new Map([['a', 1]]), s: new Set([1, 2]), d: new Date(0), b: 12345678901234567890n };
    expect(await exe.submit(echo, value)).toEqual(value);
  });

  test('arguments the codec cannot carry fail that task with D4_CODEC; the others in the batch run', async () => {
    const fs = [exe.submit(double, 1), exe.submit(total, { f: () => 1 } as unknown as number), exe.submit(double, 2)];
    const error = await rejectionOf(fs[1]);
    expect(error.code).toBe('D4_CODEC');
    expect(error.message).toContain('cannot be sent to a worker');
    expect([await fs[0], await fs[2]]).toEqual([2, 4]);
  });

  test('a result the codec cannot carry fails with D4_CODEC', async () => {
    const error = await rejectionOf(exe.submit(() => () => 1));
    expect(error.code).toBe('D4_CODEC');
  });
});

describe('futures as arguments', () => {
  const exe = new Executor({ maxWorkers: 2, blockAllocation: true, recordGraph: true });
  afterAll(() => exe.shutdown());

  test('futures nested in arrays, plain objects and Maps are replaced by their values', async () => {
    const a = exe.submit(double, 1);
    const b = exe.submit(double, 2);
    const c = exe.submit(double, 3);
    const f = exe.submit(total, [a, { b, more: [c, 1] }, new Map<string, unknown>([['k', a]])]);
    expect(await f).toBe(2 + 4 + 6 + 1 + 2);
  });

  test('a failure propagates through a chain; each cause is the upstream error', async () => {
    const a = exe.submit(fail, 'root cause');
    const b = exe.submit(add, a as unknown as number, 1);
    const c = exe.submit(total, { x: b });
    const error = await rejectionOf(c);
    expect(error).toBeInstanceOf(DependencyError);
    expect(error.code).toBe('D4_DEPENDENCY_FAILED');
    const fromB = error.cause as DependencyError;
    expect(fromB).toBeInstanceOf(DependencyError);
    const fromA = fromB.cause as TaskError;
    expect(fromA).toBeInstanceOf(TaskError);
    expect((fromA.cause as Error).message).toBe('root cause');
    expect(fromA).toBe(await a.exception());
    // The message names the first failure without repeating every link of the chain.
    expect(error.message).toContain('the first failure: task #');
    expect(error.message).toContain('root cause');
    expect(error.message.split('root cause').length).toBe(2);
  });

  test('cancelling an upstream task cancels its dependents, and nothing hangs', async () => {
    const gate = join(dir.path, 'gate-upstream');
    const blocker1 = exe.submit(holdUntil, gate, 'one');
    const blocker2 = exe.submit(holdUntil, gate, 'two');
    const upstream = exe.submit(double, 5);
    const middle = exe.submit(double, upstream);
    const last = exe.submit(total, [middle, 1]);
    expect(upstream.cancel()).toBe(true);
    expect((await rejectionOf(last)).code).toBe('D4_CANCELLED');
    expect(middle.cancelled()).toBe(true);
    expect(last.cancelled()).toBe(true);
    // Cancelling a running upstream task (its worker is replaced) cancels dependents too.
    const dependent = exe.submit(double, blocker1 as unknown as number);
    await until(() => blocker1.running());
    expect(blocker1.cancel()).toBe(true);
    expect(await rejectionOf(dependent)).toBeInstanceOf(CancelledError);
    writeFileSync(gate, '');
    expect(await blocker2).toBe('two');
  });

  test('a failure or a cancellation runs down a chain of 20 000 dependents without overflowing the stack', async () => {
    const gate = join(dir.path, 'gate-long-chain');
    const root = exe.submit(failWhenOpen, gate);
    let last: Future<number> = root;
    for (let i = 0; i < 20_000; i++) last = exe.submit(double, last);
    writeFileSync(gate, '');
    const error = await rejectionOf(last);
    expect(error.code).toBe('D4_DEPENDENCY_FAILED');
    expect(error.message).toContain('opened and failed');

    const pending = exe.submit(holdUntil, join(dir.path, 'gate-never'), 'never');
    let tail: Future<unknown> = pending;
    for (let i = 0; i < 20_000; i++) tail = exe.submit(double, tail as Future<number>);
    pending.cancel();
    expect(tail.cancelled()).toBe(true);
  });

  test('the dependency graph exports as JSON and DOT', async () => {
    const g = new Executor({ maxWorkers: 1, blockAllocation: true, recordGraph: true });
    const a = g.submit(double, 1);
    const b = g.submit(double, a);
    const c = g.submit(add, a, b);
    expect(await c).toBe(6);
    const graph = g.dependencyGraph();
    expect(graph.nodes).toEqual([
      { id: a.id, label: 'double', state: 'finished' },
      { id: b.id, label: 'double', state: 'finished' },
      { id: c.id, label: 'add', state: 'finished' },
    ]);
    expect(graph.edges).toEqual([
      { from: a.id, to: b.id },
      { from: a.id, to: c.id },
      { from: b.id, to: c.id },
    ]);
    const dot = g.dependencyGraphDot();
    expect(dot).toContain(`t${a.id} -> t${b.id};`);
    expect(dot).toContain(`t${b.id} -> t${c.id};`);
    await g.shutdown();
    expect(() => new Executor({ maxWorkers: 1 }).dependencyGraph()).toThrow(/recordGraph/);
  });

  test('disableDependencies: a future argument fails the task with D4_FUTURE_ARGUMENT instead of being sent as data', async () => {
    const plain = new Executor({ maxWorkers: 1, blockAllocation: true, disableDependencies: true });
    const a = plain.submit(double, 1);
    await a;
    const error = await rejectionOf(plain.submit(double, a as unknown as number));
    expect(error.code).toBe('D4_FUTURE_ARGUMENT');
    expect(await plain.submit(double, 4)).toBe(8);
    await plain.shutdown();
  });
});

describe('block allocation and init', () => {
  test('init runs once per worker; its values fill the last parameter by name, given values win', async () => {
    function calc(i: number, { j, k }: { j: number; k: number }) {
      return i + j + k;
    }
    const exe = new Executor({
      maxWorkers: 1,
      blockAllocation: true,
      init: () => ({ j: 4, k: 3, l: 2, token: Math.random() }),
    });
    expect(await exe.submit(calc, 2, { j: 5 })).toBe(10);
    expect(await exe.submit(calc, 2)).toBe(9);
    // One worker, one init run: every task sees the same random token.
    const tokens = await Promise.all([1, 2, 3].map(() => exe.submit((_: number, { token }: { token: number }) => token, 0)));
    expect(tokens).toHaveLength(3);
    expect(new Set(tokens).size).toBe(1);
    await exe.shutdown();
  });

  test('block allocation reuses its workers; without it every task gets a fresh worker', async () => {
    const whichThread = async () => (await import('node:worker_threads')).threadId;
    const block = new Executor({ maxWorkers: 1, blockAllocation: true });
    const reused = [await block.submit(whichThread), await block.submit(whichThread), await block.submit(whichThread)];
    expect(new Set(reused).size).toBe(1);
    await block.shutdown();
    const fresh = new Executor({ maxWorkers: 1 });
    const each = [await fresh.submit(whichThread), await fresh.submit(whichThread), await fresh.submit(whichThread)];
    expect(new Set(each).size).toBe(3);
    await fresh.shutdown();
  });

  test('init that throws fails every task with D4_INIT_FAILED', async () => {
    const exe = new Executor({
      maxWorkers: 1,
      blockAllocation: true,
      init: (): Record<string, unknown> => {
        throw new Error('no data');
      },
    });
    const error = await rejectionOf(exe.submit(double, 1));
    expect(error).toBeInstanceOf(InitError);
    expect(error.message).toContain('no data');
    expect((await rejectionOf(exe.submit(double, 2))).code).toBe('D4_INIT_FAILED');
    await exe.shutdown();
  });

  test('init without block allocation is refused', () => {
    expect(() => new Executor({ init: () => ({}) })).toThrow(/blockAllocation/);
  });

  test('block allocation refuses per-call resources that differ from the workers', () => {
    const exe = new Executor({ maxWorkers: 1, blockAllocation: true });
    expect(() => exe.submitWith({ cores: 2 }, double, 1)).toThrow(ResourceError);
    void exe.shutdown();
  });
});

describe('shutdown', () => {
  test('submit after shutdown throws; shutdown is idempotent and waits for running tasks', async () => {
    const exe = new Executor({ maxWorkers: 1, blockAllocation: true });
    const f = exe.submit(async (x: number) => {
      await new Promise((r) => setTimeout(r, 100));
      return x;
    }, 7);
    const first = exe.shutdown();
    const second = exe.shutdown();
    expect(() => exe.submit(double, 1)).toThrow(ExecutorShutdownError);
    await Promise.all([first, second]);
    expect(f.done()).toBe(true);
    expect(await f).toBe(7);
  });

  test('cancelFutures cancels queued tasks and lets the running one finish', async () => {
    const gate = join(dir.path, 'gate-shutdown');
    const exe = new Executor({ maxWorkers: 1, blockAllocation: true });
    const running = exe.submit(holdUntil, gate, 'finished');
    const queued = [exe.submit(double, 1), exe.submit(double, 2)];
    await until(() => running.running());
    await exe.shutdown({ wait: false, cancelFutures: true });
    expect(queued.map((f) => f.cancelled())).toEqual([true, true]);
    expect(running.cancelled()).toBe(false);
    writeFileSync(gate, '');
    await exe.shutdown();
    expect(await running).toBe('finished');
  });

  test('without cancelFutures every queued task still runs', async () => {
    const exe = new Executor({ maxWorkers: 1, blockAllocation: true });
    const fs = [1, 2, 3].map((x) => exe.submit(double, x));
    await exe.shutdown({ wait: true });
    expect(fs.map((f) => f.done())).toEqual([true, true, true]);
    expect(await Promise.all(fs)).toEqual([2, 4, 6]);
  });

  test('await using disposes the executor', async () => {
    let kept: Executor | undefined;
    let result: Future<number> | undefined;
    {
      await using exe = new Executor({ maxWorkers: 1 });
      kept = exe;
      result = exe.submit(double, 4);
    }
    expect(result.done()).toBe(true);
    expect(() => kept!.submit(double, 1)).toThrow(ExecutorShutdownError);
  });
});
