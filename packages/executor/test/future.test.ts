import { describe, expect, test } from '@jest/globals';
import { Future, wait, asCompleted, CancelledError, FutureTimeoutError } from '../src/index.js';
import { rejectionOf } from './helpers.js';

describe('Future', () => {
  test('is awaitable and reports its state', async () => {
    const f = new Future<number>('answer');
    expect([f.done(), f.running(), f.cancelled()]).toEqual([false, false, false]);
    f._setRunning();
    expect(f.running()).toBe(true);
    f._resolve(42);
    expect(await f).toBe(42);
    expect(await f.result()).toBe(42);
    expect(await f.exception()).toBeUndefined();
    expect(f.done()).toBe(true);
    expect(f.cancel()).toBe(false);
  });

  test('done callbacks run once, at completion or at once when already done', () => {
    const f = new Future<string>();
    const seen: string[] = [];
    f.addDoneCallback((x) => seen.push(`first:${x.state}`));
    f._reject(new Error('no'));
    f.addDoneCallback((x) => seen.push(`late:${x.state}`));
    expect(seen).toEqual(['first:failed', 'late:failed']);
  });

  test('a failed future that nobody awaits raises no unhandled rejection; exception() returns the error', async () => {
    const f = new Future();
    const error = new Error('boom');
    f._reject(error);
    expect(await f.exception()).toBe(error);
    expect(await rejectionOf(f)).toBe(error);
  });

  test('cancel() of a pending future cancels it; awaiting rejects with D4_CANCELLED', async () => {
    const f = new Future();
    expect(f.cancel()).toBe(true);
    expect(f.cancelled()).toBe(true);
    const error = await rejectionOf(f);
    expect(error).toBeInstanceOf(CancelledError);
    expect(error.code).toBe('D4_CANCELLED');
    expect((await rejectionOf(f.exception())).code).toBe('D4_CANCELLED');
  });

  test('result({timeout}) rejects with D4_FUTURE_TIMEOUT and leaves the future pending', async () => {
    const f = new Future();
    const error = await rejectionOf(f.result({ timeout: 20 }));
    expect(error).toBeInstanceOf(FutureTimeoutError);
    expect(error.code).toBe('D4_FUTURE_TIMEOUT');
    expect(f.done()).toBe(false);
  });
});

describe('wait and asCompleted', () => {
  test('wait FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED and timeout', async () => {
    const [a, b, c] = [new Future<number>('a'), new Future<number>('b'), new Future<number>('c')];
    setTimeout(() => b._resolve(2), 5);
    let r = await wait([a, b, c], { returnWhen: 'FIRST_COMPLETED' });
    expect([...r.done]).toEqual([b]);
    expect(r.notDone).toEqual(new Set([a, c]));

    setTimeout(() => c._reject(new Error('c failed')), 5);
    r = await wait([a, b, c], { returnWhen: 'FIRST_EXCEPTION' });
    expect(r.done).toEqual(new Set([b, c]));

    r = await wait([a, b, c], { timeout: 10 });
    expect(r.notDone).toEqual(new Set([a]));

    setTimeout(() => a._resolve(1), 5);
    r = await wait([a, b, c]);
    expect(r.done).toEqual(new Set([a, b, c]));
    expect(r.notDone.size).toBe(0);
  });

  test('asCompleted yields the futures themselves in completion order', async () => {
    const fs = [new Future<number>('x'), new Future<number>('y'), new Future<number>('z')];
    setTimeout(() => fs[2]._resolve(3), 1);
    setTimeout(() => fs[0]._resolve(1), 15);
    setTimeout(() => fs[1]._resolve(2), 30);
    const order: number[] = [];
    for await (const f of asCompleted(fs)) {
      expect(f).toBeInstanceOf(Future);
      order.push(await f);
    }
    expect(order).toEqual([3, 1, 2]);
  });

  test('asCompleted with a timeout throws D4_FUTURE_TIMEOUT for futures left over', async () => {
    const done = new Future<number>();
    done._resolve(1);
    const never = new Future<number>();
    const seen: unknown[] = [];
    const error = await rejectionOf(
      (async () => {
        // (TypeScript types a for-await variable as the awaited value; at run time it is the future.)
        for await (const f of asCompleted([done, never], { timeout: 20 })) seen.push(f);
      })(),
    );
    expect(seen).toEqual([done]);
    expect(error.code).toBe('D4_FUTURE_TIMEOUT');
    expect(error.message).toContain('1 of 2 futures');
  });
});
