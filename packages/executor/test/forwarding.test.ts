import { afterAll, describe, expect, test } from '@jest/globals';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Executor, Future, CancelledError, DependencyError, TaskError, WorkerCrashedError } from '../src/index.js';
import { CodecError } from '@d4/core';
import { forwardLimit, forwardedArgs } from '../src/scheduling/forwarding.js';
import { KeptResults } from '../src/kept-results.js';
import { add, crashOnce, exitWith, fail, holdUntil, recordCall, whereAmI } from './fixtures/tasks.js';
import { rejectionOf, tempDir, until } from './helpers.js';

// A dependent task whose argument futures are all answered by one worker goes to that worker
// and runs there from their results (scheduling/forwarding.ts). These tests check that every
// outcome is the one the executor gives without forwarding: `submitWith({}, …)` is the same
// call without forwarding (a call with options is never forwarded), so it is the reference.

const dir = tempDir();
afterAll(() => dir.cleanup());

function increment(x: number): number {
  return x + 1;
}
function identity(x: unknown): unknown {
  return x;
}
function total(parts: unknown): number {
  const walk = (v: unknown): number =>
    typeof v === 'number' ? v : Array.isArray(v) ? v.reduce((s: number, x) => s + walk(x), 0) : v instanceof Map ? [...v.values()].reduce((s: number, x) => s + walk(x), 0) : v && typeof v === 'object' ? Object.values(v).reduce((s: number, x) => s + walk(x), 0) : 0;
  return walk(parts);
}

/** Times each task once, so the workers queue more than one task (block dispatch's depth), which forwarding needs. */
async function warm(exe: Executor): Promise<void> {
  const futures = Array.from({ length: 2000 }, (_, i) => exe.submit(increment, i));
  expect(await Promise.all(futures)).toEqual(Array.from({ length: 2000 }, (_, i) => i + 1));
}

/** Messages name task ids, which differ between two runs of the same calls. */
function withoutIds(text: string): string {
  return text.replace(/#\d+/g, '#N');
}

describe.each(['thread', 'process'] as const)('forwarded dependents (%s workers)', (backend) => {
  const exe = new Executor({ maxWorkers: 2, blockAllocation: true, backend });
  afterAll(() => exe.shutdown());

  test('a chain of 2 000 tasks gives the exact value, and every future of the chain resolves, in order, with its own', async () => {
    await warm(exe);
    const before = exe.forwarded;
    const chain: Future<number>[] = [exe.submit(increment, 0)];
    for (let i = 1; i < 2000; i++) chain.push(exe.submit(increment, chain[i - 1]));
    const order: number[] = [];
    chain.forEach((f, i) => f.addDoneCallback(() => order.push(i)));
    expect(await chain[1999]).toBe(2000);
    expect(order).toEqual(chain.map((_, i) => i));
    expect(await Promise.all(chain)).toEqual(chain.map((_, i) => i + 1));
    // Most hops went straight to the worker (the rest start a new run of it once the worker's queue is full).
    expect(exe.forwarded - before).toBeGreaterThan(1000);
  });

  test('a done future (it is its task record) keeps no other future of its chain alive: the first of a forwarded chain is collected while the last is held', async () => {
    await warm(exe);
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const before = exe.forwarded;
    let first: Future<number> | undefined = exe.submit(increment, 0);
    const firstRef = new WeakRef(first);
    let last: Future<number> = first;
    for (let i = 1; i < 200; i++) last = exe.submit(increment, last);
    first = undefined;
    expect(await last).toBe(200);
    expect(exe.forwarded - before).toBeGreaterThan(100);
    // Collection happens off this turn: a few rounds of gc, each after the event loop moved on.
    for (let i = 0; i < 10 && firstRef.deref() !== undefined; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      gc();
    }
    expect(firstRef.deref()).toBeUndefined();
    expect(last.done()).toBe(true);
  });

  test('an upstream throw fails the forwarded dependent with the same error as without forwarding', async () => {
    await warm(exe);
    const run = (plain: boolean) => {
      const submit = plain ? exe.submit.bind(exe) : (exe.submitWith.bind(exe, {}) as typeof exe.submit);
      const a = submit(fail, 'root cause');
      const b = submit(add, a as unknown as number, 1);
      const c = submit(total, { x: b });
      return { a, b, c };
    };
    const before = exe.forwarded;
    const forwarded = run(true);
    await rejectionOf(forwarded.c);
    expect(exe.forwarded - before).toBe(2); // b behind a, c behind b (forwarding happens when a is dispatched)
    const reference = run(false);
    await rejectionOf(reference.c);
    expect(exe.forwarded - before).toBe(2);
    for (const { a, c } of [forwarded, reference]) {
      const error = await rejectionOf(c);
      expect(error).toBeInstanceOf(DependencyError);
      expect(error.code).toBe('D4_DEPENDENCY_FAILED');
      const fromB = error.cause as DependencyError;
      expect(fromB).toBeInstanceOf(DependencyError);
      expect(fromB.cause).toBeInstanceOf(TaskError);
      expect(fromB.cause).toBe(await a.exception());
      expect(((fromB.cause as TaskError).cause as Error).message).toBe('root cause');
    }
    const messages = async (r: typeof forwarded) => [await r.a.exception(), await r.b.exception(), await r.c.exception()].map((e) => withoutIds((e as Error).message));
    expect(await messages(forwarded)).toEqual(await messages(reference));
  });

  test('a result the codec cannot carry fails the upstream with D4_CODEC and the forwarded dependent as without forwarding', async () => {
    await warm(exe);
    const before = exe.forwarded;
    const up = exe.submit(() => () => 1);
    const dependent = exe.submit(identity, up);
    await rejectionOf(dependent);
    expect(exe.forwarded - before).toBe(1);
    const refUp = exe.submitWith({}, () => () => 1);
    const reference = exe.submitWith({}, identity, refUp);
    const error = await rejectionOf(dependent);
    expect(error).toBeInstanceOf(DependencyError);
    expect(error.cause).toBeInstanceOf(CodecError);
    expect((error.cause as CodecError).code).toBe('D4_CODEC');
    expect(withoutIds(error.message)).toBe(withoutIds((await rejectionOf(reference)).message));
  });

  test('a forwarded dependent gets the value as it crosses the codec, a copy of its own (the caller and a dependent not forwarded do not see its changes), even for a large result', async () => {
    await warm(exe);
    function shaped(): unknown {
      class Point {
        x = 1;
      }
      return { p: new Point(), z: -0, m: new Map([[1, 2]]), d: new Date(0), list: [1, 2] };
    }
    function inspect(v: { p: object; z: number; m: unknown; d: unknown; list: number[] }): unknown[] {
      v.list.push(9); // the other dependent and the caller must not see this
      return [Object.getPrototypeOf(v.p) === Object.prototype, Object.is(v.z, -0), v.m instanceof Map, v.d instanceof Date, v.list];
    }
    const before = exe.forwarded;
    const up = exe.submit(shaped);
    const first = exe.submit(inspect, up as never);
    const second = exe.submit(inspect, up as never);
    const big = exe.submit((n: number) => 'x'.repeat(n), 1_000_000);
    const length = exe.submit((s: string) => s.length, big);
    await Promise.all([first, second, length]);
    expect(exe.forwarded - before).toBe(2); // first behind up, length behind big (second, up's other dependent, waits for it here)
    const reference = exe.submitWith({}, inspect, exe.submitWith({}, shaped) as never);
    expect(await first).toEqual([true, false, true, true, [1, 2, 9]]);
    expect(await second).toEqual(await first);
    expect(await reference).toEqual(await first);
    expect(((await up) as { list: number[] }).list).toEqual([1, 2]);
    expect(await length).toBe(1_000_000);
    expect((await big).length).toBe(1_000_000);
  });

  test('futures nested in arrays and plain objects are forwarded, resolved ones go as values; a future in a Map is not forwarded', async () => {
    await warm(exe);
    const done = exe.submit(increment, 99);
    await done;
    const before = exe.forwarded;
    const a = exe.submit(increment, 0);
    const b = exe.submit(increment, a);
    const nested = exe.submit(total, [a, { b, more: [done, 1] }]);
    const inMap = exe.submit(total, new Map<string, unknown>([['k', a]]));
    expect(await nested).toBe(1 + 2 + 100 + 1);
    expect(await inMap).toBe(1);
    expect(exe.forwarded - before).toBe(2); // b and nested
  });

  test('several futures: forwarded only when every unanswered one is on the same worker; calls with options are not forwarded', async () => {
    await warm(exe);
    const before = exe.forwarded;
    const a = exe.submit(increment, 1); // the first worker
    const b = exe.submit(increment, a); // behind a
    const x = exe.submit(add, 20, 22); // the other worker (the least loaded)
    const both = exe.submit(add, a, b); // a and b are on one worker: forwarded
    const across = exe.submit(add, a, x); // a and x are not: waits for both here
    const timed = exe.submitWith({ timeout: 60_000 }, increment, b);
    expect(await Promise.all([a, b, x, both, across, timed])).toEqual([2, 3, 42, 5, 44, 4]);
    expect(exe.forwarded - before).toBe(2); // b and both
  });

  test('a crash in a forwarded dependent: its upstream still gives its value, the dependent fails with D4_WORKER_CRASHED, the ones after it with D4_DEPENDENCY_FAILED', async () => {
    await warm(exe);
    const before = exe.forwarded;
    const up = exe.submit(add, 1, 2);
    const crashing = exe.submit(exitWith, up);
    const after = exe.submit(add, crashing as never, 1);
    const independent = exe.submit(add, 20, 22);
    expect(await up).toBe(3);
    const error = await rejectionOf(crashing);
    expect(error).toBeInstanceOf(WorkerCrashedError);
    expect(error.message).toContain('exited with code 3');
    expect(error.message).toContain(`task #${crashing.id} (exitWith)`);
    const downstream = await rejectionOf(after);
    expect(downstream).toBeInstanceOf(DependencyError);
    expect(downstream.cause).toBe(error);
    expect(await independent).toBe(42);
    expect(exe.forwarded - before).toBe(2); // crashing and after
    expect(await exe.submit(add, 1, 1)).toBe(2);
  });

  test('a forwarded chain held by a worker that crashes is run again (maxRetries) and gives the exact values', async () => {
    await using retrying = new Executor({ maxWorkers: 1, blockAllocation: true, backend, maxRetries: 1 });
    await warm(retrying);
    const marker = join(dir.path, `crash-marker-${backend}`);
    const path = retrying.submit(identity, marker);
    const recovered = retrying.submit(crashOnce, path as never);
    const tail: Future<string>[] = [retrying.submit((s: string) => `${s}!`, recovered)];
    for (let i = 1; i < 50; i++) tail.push(retrying.submit((s: string) => `${s}!`, tail[i - 1]));
    expect(await recovered).toBe('recovered');
    expect(await tail[49]).toBe(`recovered${'!'.repeat(50)}`);
    expect(retrying.forwarded).toBe(51); // recovered and the tail, behind path
    expect(readFileSync(marker, 'utf8')).toBe('crashed');
  });

  test('cancel() of a forwarded dependent: it and its dependents are cancelled and never run; the upstream runs on', async () => {
    await using one = new Executor({ maxWorkers: 1, blockAllocation: true, backend });
    const gate = join(dir.path, `gate-cancel-${backend}`);
    const calls = join(dir.path, `calls-cancel-${backend}`);
    const where = await one.submit(whereAmI);
    await warm(one); // after the first task of the fixtures module, whose import counts in the measured task time
    const up = one.submit(holdUntil, gate, 5 as unknown as string);
    const dependent = one.submit(recordCall, calls, up as never);
    const next = one.submit(recordCall, calls, dependent as never);
    const sibling = one.submit(increment, up as never); // up's second dependent: waits here
    // Another chain queued behind in the same worker: fenced off with the cancelled task (thread), it is sent again and runs.
    const other = one.submit(increment, 1);
    const otherNext = one.submit(increment, other);
    await until(() => up.running());
    expect(one.forwarded).toBe(3); // dependent, next, otherNext
    expect(dependent.running()).toBe(false); // pending, as a dependent whose argument is not done
    expect(dependent.cancel()).toBe(true);
    expect(await rejectionOf(dependent)).toBeInstanceOf(CancelledError);
    expect(next.cancelled()).toBe(true);
    writeFileSync(gate, '');
    expect(await up).toBe(5);
    expect(await sibling).toBe(6);
    expect(await Promise.all([other, otherNext])).toEqual([2, 3]);
    expect(existsSync(calls)).toBe(false);
    // A thread worker is fenced off from the cancelled task and keeps running; a process worker is replaced (its upstream runs again there).
    const after = await one.submit(whereAmI);
    if (backend === 'thread') expect(after).toBe(where);
    else expect(after).not.toBe(where);
  });

  test('shutdown({ cancelFutures: true }) cancels forwarded dependents that have not started', async () => {
    const closing = new Executor({ maxWorkers: 1, blockAllocation: true, backend });
    await warm(closing);
    const gate = join(dir.path, `gate-shutdown-${backend}`);
    const calls = join(dir.path, `calls-shutdown-${backend}`);
    const up = closing.submit(holdUntil, gate, 7 as unknown as string);
    const dependent = closing.submit(recordCall, calls, up as never);
    await until(() => up.running());
    expect(closing.forwarded).toBe(1);
    const done = closing.shutdown({ cancelFutures: true });
    expect(dependent.cancelled()).toBe(true);
    writeFileSync(gate, '');
    await done;
    expect(await up).toBe(7);
    expect(existsSync(calls)).toBe(false);
  });

  test('init that throws fails a forwarded chain as it fails a chain that is not forwarded', async () => {
    const outcome = async (plain: boolean) => {
      await using broken = new Executor({ maxWorkers: 1, blockAllocation: true, backend, init: () => {
        throw new Error('no database');
      } });
      const submit = plain ? broken.submit.bind(broken) : (broken.submitWith.bind(broken, {}) as typeof broken.submit);
      const chain: Future<number>[] = [submit(increment, 0)];
      for (let i = 1; i < 5; i++) chain.push(submit(increment, chain[i - 1]));
      const errors = await Promise.all(chain.map((f) => rejectionOf(f)));
      return { forwarded: broken.forwarded, errors: errors.map((e) => [e.code, withoutIds(e.message)]) };
    };
    const forwarded = await outcome(true);
    expect(forwarded.forwarded).toBe(4); // a fresh worker takes up to 16 tasks with forwarded ones
    const reference = await outcome(false);
    expect(reference.forwarded).toBe(0);
    expect(forwarded.errors).toEqual(reference.errors);
    // The first two fail with init's error (the one running, the first one waiting); the ones after them through it.
    expect(forwarded.errors.map(([code]) => code)).toEqual(['D4_INIT_FAILED', 'D4_INIT_FAILED', 'D4_DEPENDENCY_FAILED', 'D4_DEPENDENCY_FAILED', 'D4_DEPENDENCY_FAILED']);
    expect(forwarded.errors.every(([, message]) => message!.includes('no database'))).toBe(true);
  });

  test('a forwarded dependent whose arguments cannot be sent fails with D4_CODEC; the other dependents of its upstream still run', async () => {
    await warm(exe);
    const up = exe.submit(increment, 1);
    const bad = exe.submit(add, up, (() => 1) as unknown as number);
    const afterBad = exe.submit(increment, bad);
    const good = exe.submit(add, up, 10);
    const before = exe.forwarded;
    const error = await rejectionOf(bad);
    expect(error).toBeInstanceOf(CodecError);
    expect(error.message).toContain(`task #${bad.id} (add) cannot be sent to a worker`);
    expect((await rejectionOf(afterBad)).code).toBe('D4_DEPENDENCY_FAILED');
    expect(await good).toBe(12);
    expect(exe.forwarded - before).toBe(2); // bad behind up, afterBad behind bad; good, up's second dependent, waited for it here
    expect(await exe.submit(increment, good)).toBe(13);
  });

  test('of a fan-out one dependent is forwarded; the others spread over both workers', async () => {
    await warm(exe);
    const before = exe.forwarded;
    const root = exe.submit(increment, 0);
    const fan = Array.from({ length: 2000 }, (_, i) => exe.submit(add, root, i));
    expect(await Promise.all(fan)).toEqual(fan.map((_, i) => i + 1));
    expect(exe.forwarded - before).toBe(1);
  });
});

describe('forwarding without the conditions it needs', () => {
  test('without block allocation, or with a result cache, nothing is forwarded and chains give the same values', async () => {
    const cache = tempDir();
    try {
      for (const options of [{ maxWorkers: 2 }, { maxWorkers: 2, blockAllocation: true, cacheDirectory: cache.path }]) {
        await using exe = new Executor(options);
        let last: Future<number> = exe.submit(increment, 0);
        for (let i = 1; i < 20; i++) last = exe.submit(increment, last);
        expect(await last).toBe(20);
        expect(exe.forwarded).toBe(0);
      }
    } finally {
      cache.cleanup();
    }
  });
});

describe('forwarding as data', () => {
  test('forwardLimit: 16 tasks before a task was timed or when tasks are long, about 8 ms of measured work, at most 2 048', () => {
    expect([forwardLimit(undefined), forwardLimit(100), forwardLimit(0.1), forwardLimit(0.001), forwardLimit(0)]).toEqual([16, 16, 80, 2048, 2048]);
  });

  test('forwardedArgs: unanswered futures become null and a ref with their path, done ones their values', () => {
    const done = new Future<number>('done');
    done._resolve(4);
    const pending = new Future<number>('pending');
    const owners: unknown[] = [];
    const [template, ...refs] = forwardedArgs([pending, { a: [1, pending], b: done }, new Map([[1, 2]])], (owner) => owners.push(owner));
    expect(template).toEqual([null, { a: [1, null], b: 4 }, new Map([[1, 2]])]);
    expect(refs).toEqual([pending.id, [0], pending.id, [1, 'a', 1]]);
    expect(owners).toHaveLength(2);
    // Futures as arguments themselves: a ref names the argument's index.
    expect(forwardedArgs([done, 'x', pending], () => undefined)).toEqual([[4, 'x', null], pending.id, 2]);
  });

  test('KeptResults: each read gets its own copy through the codec; a result is dropped after its last read; a missing one stops the task', () => {
    const kept = new KeptResults();
    kept.keep(1, { list: [1], z: -0 }, 2);
    kept.keep(2, 5, 1);
    kept.keep(3, () => 1, 1); // the codec refuses it: not kept
    const first: unknown[] = [null, { x: null }];
    expect(kept.fill([first, 1, 0, 2, [1, 'x']])).toBe(true);
    expect(first).toEqual([{ list: [1], z: 0 }, { x: 5 }]);
    ((first[0] as { list: number[] }).list).push(2);
    const second: unknown[] = [null];
    expect(kept.fill([second, 1, 0])).toBe(true);
    expect(second).toEqual([{ list: [1], z: 0 }]);
    expect(kept.size).toBe(0);
    expect(kept.fill([[null], 3, 0])).toBe(false);
    kept.keep(4, 'a', 1);
    kept.release([null, 4, 0]);
    expect(kept.size).toBe(0);
  });
});
