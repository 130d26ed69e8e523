import { afterAll, describe, expect, test } from '@jest/globals';
import { Executor, TaskError } from '../src/index.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { holdUntil, secondFirst } from './fixtures/tasks.js';
import { rejectionOf, tempDir, until } from './helpers.js';

const dir = tempDir();
afterAll(() => dir.cleanup());

function square(x: number): number {
  return x * x;
}

const exe = new Executor({ maxWorkers: 2, blockAllocation: true });
afterAll(() => exe.shutdown());

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const v of it) out.push(v);
  return out;
}

describe('map', () => {
  test('yields results in input order by default, with any chunksize', async () => {
    const input = Array.from({ length: 25 }, (_, i) => i);
    const expected = input.map((x) => x * x);
    expect(await collect(exe.map(square, input))).toEqual(expected);
    expect(await collect(exe.map(square, input, { chunksize: 4 }))).toEqual(expected);
    expect(await collect(exe.map(square, []))).toEqual([]);
  });

  test('zips several iterables and stops at the shortest', async () => {
    expect(await collect(exe.map((a: number, b: string) => `${b}${a}`, [1, 2, 3], ['a', 'b']))).toEqual(['a1', 'b2']);
  });

  test('ordered: false yields as tasks complete', async () => {
    // The first task waits for a gate that this test opens only once it has received a
    // result (the second task's gate is open from the start), so the second one is yielded
    // first whatever the load. Were the results yielded in input order, the gate would open
    // only by the fallback timer, and the order would show it.
    const gate = join(dir.path, 'gate-unordered');
    const open = join(dir.path, 'gate-open');
    writeFileSync(open, '');
    const fallback = setTimeout(() => writeFileSync(gate, ''), 10_000);
    const out: string[] = [];
    for await (const value of exe.map(holdUntil, [gate, open], ['first', 'second'], { ordered: false })) {
      out.push(value);
      writeFileSync(gate, '');
    }
    clearTimeout(fallback);
    expect(out).toEqual(['second', 'first']);
    const ordered = await collect(exe.map(secondFirst, [1, 2], [`${gate}-2`, `${gate}-2`]));
    expect(ordered).toEqual([1, 2]);
  });

  test('consumes an endless (async) source lazily: at most inFlight items are pulled ahead', async () => {
    let pulled = 0;
    let closed = false;
    async function* endless(): AsyncGenerator<number> {
      try {
        for (let i = 0; ; i++) {
          pulled++;
          yield i;
        }
      } finally {
        closed = true;
      }
    }
    const seen: number[] = [];
    for await (const v of exe.map(square, endless(), { inFlight: 4 })) {
      seen.push(v);
      expect(pulled).toBeLessThanOrEqual(seen.length + 4);
      if (seen.length === 200) break;
    }
    expect(seen).toEqual(Array.from({ length: 200 }, (_, i) => i * i));
    expect(pulled).toBeLessThanOrEqual(204);
    // The source is closed (return()) once its pending next() is answered.
    await until(() => closed);
    expect(closed).toBe(true);
  });

  test('chunks also bound what is pulled ahead: inFlight chunks of chunksize items', async () => {
    let pulled = 0;
    function* endless(): Generator<number> {
      for (let i = 0; ; i++) {
        pulled++;
        yield i;
      }
    }
    let count = 0;
    for await (const v of exe.map(square, endless(), { inFlight: 2, chunksize: 5 })) {
      expect(v).toBe(count * count);
      count++;
      expect(pulled).toBeLessThanOrEqual(count + 2 * 5 + 5);
      if (count === 100) break;
    }
  });

  test('a failing item ends the iteration with its error and cancels the rest', async () => {
    const error = await rejectionOf(collect(exe.map((x: number) => {
      if (x === 3) throw new Error(`item ${x} is bad`);
      return x;
    }, [1, 2, 3, 4, 5])));
    expect(error).toBeInstanceOf(TaskError);
    expect(error.message).toContain('item 3 is bad');
    expect(await exe.submit(square, 3)).toBe(9);
  });

  test('two executors chain into a pipeline over a lazy source', async () => {
    await using first = new Executor({ maxWorkers: 1, blockAllocation: true });
    function* source(): Generator<number> {
      for (let i = 1; i <= 30; i++) yield i;
    }
    const out = await collect(exe.map((x: number) => x + 1, first.map(square, source(), { chunksize: 3 })));
    expect(out).toEqual(Array.from({ length: 30 }, (_, i) => (i + 1) * (i + 1) + 1));
  });

  test('map after shutdown throws, and bad options are refused', async () => {
    expect(() => exe.map(square, [1], { chunksize: 0 })).toThrow(/chunksize/);
    expect(() => exe.map(square, [1], { inFlight: -1 })).toThrow(/inFlight/);
    const closed = new Executor({ maxWorkers: 1 });
    await closed.shutdown();
    expect(() => closed.map(square, [1])).toThrow(/shut down/);
  });
});
