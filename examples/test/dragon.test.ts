import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { startRedis, allKeys, type TestRedis } from '../../packages/mapping-redis/test/redis-server.js';

// Each example of examples/dragon runs as a user runs it (npx tsx …) and its output is checked.
const repo = fileURLToPath(new URL('../../', import.meta.url));
const tsxCli = createRequire(import.meta.url).resolve('tsx/cli');

function runExample(name: string, env: Record<string, string> = {}, args: string[] = []): string[] {
  const result = spawnSync(process.execPath, [tsxCli, `examples/dragon/${name}.ts`, ...args], { cwd: repo, encoding: 'utf8', timeout: 170_000, env: { ...process.env, ...env } });
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

// The summaries of examples/dragon/data: name, non-empty lines, words, first longest word.
const SUMMARIES = ['01-fox.txt 2 9 quick', '02-stream.txt 3 11 processing', '03-counts.txt 3 6 three', '04-dragon.txt 4 21 dictionary', '05-hello.txt 1 2 hello', '06-lazy.txt 6 6 lazily'];
const SIZES = Array.from({ length: 13 }, (_, i) => 2 ** i);

describe('examples/dragon, seed 003 (data processing)', () => {
  test('files_map: one process reads the files, the pool processes the texts', () => {
    expect(runExample('files_map')).toEqual(SUMMARIES);
  });

  test('files_imap: a lazy reader, chunks of 4', () => {
    expect(runExample('files_imap')).toEqual([...SUMMARIES, 'files read: 6']);
  });

  test('files_shared: the workers read the files themselves', () => {
    expect(runExample('files_shared')).toEqual(SUMMARIES);
  });

  test('stream_pipeline: 200 records from a local socket through two pools, every one processed once, in order', () => {
    const expected = Array.from({ length: 200 }, (_, i) => ({ i, value: ((i * 7) % 13) * 10 + 1 }));
    const total = expected.reduce((sum, { value }) => sum + value, 0);
    expect(runExample('stream_pipeline', {}, ['200'])).toEqual([...expected.map(({ i, value }) => `product ${i}=${value}`), `products: 200, total: ${total}`]);
  });

  test('ddict_results: workers attached through init store every summary; one is read back; the dictionary is gone after', async () => {
    expect(runExample('ddict_results', { REDIS_URL: redis.url })).toEqual(['processed: [true,true,true,true,true,true]', 'entries: 6', '03-counts.txt: {"lines":3,"words":6,"longest":"three"}']);
    expect(await allKeys(redis.client)).toEqual([]);
  });
});

describe('examples/dragon, seed 004 (the MPI workflow)', () => {
  test('mpi_workflow: five producers, at most two at a time, and every data line of each reached the consumer', () => {
    const out = runExample('mpi_workflow');
    let running = 0;
    let most = 0;
    const records = new Map<number, { size: number; latency: number }[]>();
    for (const line of out) {
      if (line.startsWith('main: starting producer')) most = Math.max(most, ++running);
      const ended = /^main: (\d+) producer\(s\) ended$/.exec(line);
      if (ended) running -= Number(ended[1]);
      const record = /^consumer: (\{.*\})$/.exec(line);
      if (record) {
        const { producer, size, latency } = JSON.parse(record[1]) as { producer: number; size: number; latency: number };
        records.set(producer, [...(records.get(producer) ?? []), { size, latency }]);
      }
    }
    expect(out.filter((l) => l.startsWith('main: starting producer'))).toEqual([0, 1, 2, 3, 4].map((i) => `main: starting producer ${i}`));
    expect(most).toBe(2);
    expect(running).toBe(0);
    // 2 comment lines and 13 data lines per run of the benchmark, all through the parser.
    expect(out.filter((l) => / done \(\d+ lines parsed\)$/.test(l)).sort()).toEqual([0, 1, 2, 3, 4].map((i) => `producer ${i}: done (15 lines parsed)`));
    expect([...records.keys()].sort()).toEqual([0, 1, 2, 3, 4]);
    for (const [, list] of records) {
      expect(list.map((r) => r.size)).toEqual(SIZES);
      expect(list.every((r) => Number.isFinite(r.latency) && r.latency > 0)).toBe(true);
    }
    expect(out.at(-1)).toBe('main: done: 5 producers');
  }, 180_000);

  test('run_mpi_workflow_graph: the same workflow as a stream graph, on simple and on multi', () => {
    const out = runExample('run_mpi_workflow_graph');
    const sizes = SIZES.join(',');
    expect(out).toEqual(
      ['simple', 'multi'].flatMap((mapping) => [
        `${mapping}: 5 producers, 65 records, 65 logged by the consumer`,
        ...[0, 1, 2, 3, 4].map((i) => `${mapping}: producer ${i}: ${sizes}`),
      ]),
    );
  }, 180_000);
});
