import { afterAll, describe, expect, test } from '@jest/globals';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { decode } from '@d4/core';
import { Executor } from '../src/index.js';
import { recordCall } from './fixtures/tasks.js';
import { tempDir } from './helpers.js';

const dir = tempDir();
afterAll(() => dir.cleanup());

function calls(file: string): string[] {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

describe('cacheDirectory', () => {
  test('a second run of the same call reads the stored result instead of running', async () => {
    const cacheDirectory = join(dir.path, 'cache');
    const log = join(dir.path, 'calls.log');
    {
      await using exe = new Executor({ maxWorkers: 1, blockAllocation: true, cacheDirectory });
      expect(await exe.submit(recordCall, log, 4)).toBe(40);
    }
    expect(calls(log)).toEqual(['4']);
    {
      await using exe = new Executor({ maxWorkers: 1, cacheDirectory });
      expect(await exe.submit(recordCall, log, 4)).toBe(40); // from the cache: no new call
      expect(await exe.submit(recordCall, log, 5)).toBe(50); // other arguments: runs
    }
    expect(calls(log)).toEqual(['4', '5']);
    // msgpack files, written by rename (no temporary files left), one per distinct call.
    const files = readdirSync(cacheDirectory);
    expect(files).toHaveLength(2);
    expect(files.every((f) => /^[0-9a-f]{64}\.msgpack$/.test(f))).toBe(true);
    const values = files.map((f) => decode<{ v: number }>(readFileSync(join(cacheDirectory, f))).v).sort();
    expect(values).toEqual([40, 50]);
  });

  test('the function identity is part of the key: a different function does not hit', async () => {
    const cacheDirectory = join(dir.path, 'cache-identity');
    await using exe = new Executor({ maxWorkers: 1, blockAllocation: true, cacheDirectory });
    expect(await exe.submit((x: number) => x + 1, 1)).toBe(2);
    await exe.shutdown();
    await using again = new Executor({ maxWorkers: 1, blockAllocation: true, cacheDirectory });
    expect(await again.submit((x: number) => x + 2, 1)).toBe(3);
    expect(await again.submit((x: number) => x + 1, 1)).toBe(2);
    expect(readdirSync(cacheDirectory)).toHaveLength(2);
  });

  test('failures are not cached', async () => {
    const cacheDirectory = join(dir.path, 'cache-failures');
    await using exe = new Executor({ maxWorkers: 1, blockAllocation: true, cacheDirectory });
    await expect(exe.submit((): number => {
      throw new Error('nope');
    })).rejects.toThrow('nope');
    await exe.shutdown();
    let entries: string[] = [];
    try {
      entries = readdirSync(cacheDirectory);
    } catch {
      // never created: nothing stored
    }
    expect(entries).toEqual([]);
  });
});
