/**
 * Exit codes come from core's closed table of error codes (ERROR_CODES), not from a guess
 * on the code's prefix: what is refused before any work exits 2 whatever its family
 * (Redis, partitions, job ids), through the real binary.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ERROR_CODES, type D4ErrorCode } from '@d4/core';
import { freePort, startRedis, type TestRedis } from '../../mapping-redis/test/redis-server.js';
import { EXIT, EXIT_FOR_KIND, exitCodeFor } from '../src/exit-codes.js';
import { spawnD4 } from './helpers.js';

/** The last line of stderr ends with the error's code in parentheses. */
function codeOf(stderr: string): string | undefined {
  return /\((D4_[A-Z_]+)\)\n/.exec(stderr)?.[1];
}

describe('refused before any work: exit 2 through the d4 binary', () => {
  let evicting: TestRedis;
  let server: TestRedis;
  beforeAll(async () => {
    [evicting, server] = await Promise.all([startRedis(['--maxmemory-policy', 'allkeys-lru']), startRedis()]);
  });
  afterAll(async () => {
    await Promise.all([evicting?.stop(), server?.stop()]);
  });

  test('no Redis server at the URL (D4_REDIS_UNREACHABLE)', async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    const r = await spawnD4(['run', 'redis', 'squares.ts', '-i', '3', '--redis-url', url]);
    expect({ code: r.code, error: codeOf(r.stderr) }).toEqual({ code: 2, error: 'D4_REDIS_UNREACHABLE' });
    expect(r.stderr).toContain(url);
  });

  test('--redis-url notaurl (D4_REDIS_URL)', async () => {
    const r = await spawnD4(['run', 'dyn_redis', 'squares.ts', '-i', '3', '--redis-url', 'notaurl']);
    expect({ code: r.code, error: codeOf(r.stderr) }).toEqual({ code: 2, error: 'D4_REDIS_URL' });
    expect(r.stderr).toContain('"notaurl"');
  });

  test('a server that may evict stream entries (D4_REDIS_EVICTION)', async () => {
    const r = await spawnD4(['run', 'redis', 'squares.ts', '-i', '3', '--redis-url', evicting.url]);
    expect({ code: r.code, error: codeOf(r.stderr) }).toEqual({ code: 2, error: 'D4_REDIS_EVICTION' });
  });

  test('d4 worker for a job the server does not have (D4_REDIS_NO_JOB)', async () => {
    const r = await spawnD4(['worker', 'redis', '--redis-url', server.url, '--job', 'no-such-job']);
    expect({ code: r.code, error: codeOf(r.stderr) }).toEqual({ code: 2, error: 'D4_REDIS_NO_JOB' });
    expect(r.stderr).toContain('no-such-job');
  });

  test('a --job id that is not one (D4_REDIS_JOB_OPTION)', async () => {
    const r = await spawnD4(['run', 'redis', 'squares.ts', '-i', '3', '--redis-url', server.url, '--job', 'bad id!']);
    expect({ code: r.code, error: codeOf(r.stderr) }).toEqual({ code: 2, error: 'D4_REDIS_JOB_OPTION' });
  });

  test('a PE in two partitions of multi -s (D4_PARTITION)', async () => {
    const r = await spawnD4(['run', 'multi', 'two-partitions.ts', '-s', '-n', '2', '-i', '3']);
    expect({ code: r.code, error: codeOf(r.stderr) }).toEqual({ code: 2, error: 'D4_PARTITION' });
    expect(r.stderr).toContain('PE Square1 is in partitions 0 and 1');
  });
});

describe('exitCodeFor reads the table', () => {
  const coded = (code: string): Error => Object.assign(new Error('x'), { code });

  test('every code exits with the number of its kind', () => {
    const numbers = { usage: 2, runFailed: 1, interrupted: 130 };
    for (const [code, info] of Object.entries(ERROR_CODES)) {
      expect([code, exitCodeFor(coded(code), false)]).toEqual([code, numbers[info.exit]]);
    }
    expect(EXIT_FOR_KIND).toEqual(numbers);
  });

  test('a code this copy of core does not know is a failed run (1); an abort is 130', () => {
    expect(exitCodeFor(coded('D4_FROM_A_NEWER_CORE'), false)).toBe(EXIT.runFailed);
    expect(exitCodeFor(new Error('plain'), false)).toBe(EXIT.runFailed);
    expect(exitCodeFor(coded('D4_PE_FAILED'), true)).toBe(EXIT.interrupted);
  });
});

describe('the README publishes the table', () => {
  test('packages/cli/README.md lists every code with its exit code and meaning, in table order', () => {
    const readme = readFileSync(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8');
    const block = readme.slice(readme.indexOf('<!-- error-codes:start'), readme.indexOf('<!-- error-codes:end -->'));
    const rows = [...block.matchAll(/^\| `(D4_[A-Z_]+)` \| (\d+) \| (.*) \|$/gm)].map((m) => [m[1], Number(m[2]), m[3].replaceAll('\\|', '|')]);
    const expected = (Object.keys(ERROR_CODES) as D4ErrorCode[]).map((code) => [code, EXIT_FOR_KIND[ERROR_CODES[code].exit], ERROR_CODES[code].summary]);
    // When this fails: node scripts/error-codes-table.mjs (after building @d4/core).
    expect(rows).toEqual(expected);
  });
});
