import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { startRedis, allKeys, type TestRedis } from '../../packages/mapping-redis/test/redis-server.js';

// Each example of examples/dragon runs as a user runs it (npx tsx …) and its output is checked.
const repo = fileURLToPath(new URL('../../', import.meta.url));
const tsxCli = createRequire(import.meta.url).resolve('tsx/cli');

function runExample(name: string, env: Record<string, string> = {}): string[] {
  const result = spawnSync(process.execPath, [tsxCli, `examples/dragon/${name}.ts`], { cwd: repo, encoding: 'utf8', timeout: 120_000, env: { ...process.env, ...env } });
  if (result.status !== 0) throw new Error(`example ${name} exited with ${result.status} (${result.signal ?? 'no signal'}): ${result.stderr}`);
  return result.stdout.trim().split('\n');
}

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

describe('examples/dragon, seed 003 (data processing)', () => {
  test('ddict_results: workers attached through init store every summary; one is read back; the dictionary is gone after', async () => {
    expect(runExample('ddict_results', { REDIS_URL: redis.url })).toEqual(['processed: [true,true,true,true,true,true]', 'entries: 6', '03-counts.txt: {"lines":3,"words":6,"longest":"three"}']);
    expect(await allKeys(redis.client)).toEqual([]);
  });
});
