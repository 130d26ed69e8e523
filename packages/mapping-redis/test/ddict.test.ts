import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { D4Error } from '@d4/core';
import { DDict } from '../src/ddict/index.js';
import { loadWorkflow } from '@d4/core';
import { mappings } from '../src/index.js';
import { allKeys, freePort, startRedis, type TestRedis } from './redis-server.js';
import { fixture, range, sortedNumbers } from './helpers.js';

let server: TestRedis;
beforeAll(async () => {
  server = await startRedis();
});
afterAll(async () => {
  await server?.stop();
});

async function collect(keys: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const key of keys) out.push(key);
  return out.sort();
}

describe('a dictionary on Redis', () => {
  test('get, set, has, delete, keys, size, clear and destroy, with codec values', async () => {
    const dd = await DDict.connect(server.url, { name: 'basics' });
    const values = {
      number: 42,
      text: 'héllo',
      nested: { list: [1, 'two', null], flag: true },
      map: new Map<string, number>([['a', 1]]),
      set: new Set([1, 2]),
      date: new Date('2026-01-02T03:04:05Z'),
      big: 12345678901234567890n,
      bytes: Buffer.from([1, 2, 3]),
    };
    for (const [key, value] of Object.entries(values)) await dd.set(key, value);
    for (const [key, value] of Object.entries(values)) expect(await dd.get(key)).toEqual(value);
    expect(await dd.get('missing')).toBeUndefined();
    expect(await dd.has('number')).toBe(true);
    expect(await dd.has('missing')).toBe(false);
    expect(await dd.size()).toBe(8);
    expect(await collect(dd.keys())).toEqual(Object.keys(values).sort());
    await dd.set('number', 43);
    expect(await dd.get('number')).toBe(43);
    expect(await dd.delete('number')).toBe(true);
    expect(await dd.delete('number')).toBe(false);
    expect(await dd.size()).toBe(7);
    await dd.clear();
    expect(await dd.size()).toBe(0);
    await dd.set('after-clear', 1);
    expect(await dd.get('after-clear')).toBe(1);
    await dd.destroy();
    expect(await allKeys(server.client)).toEqual([]);
    await expect(dd.get('after-clear')).rejects.toMatchObject({ code: 'D4_DDICT_CLOSED', message: expect.stringContaining('DDict basics: get() after this handle was destroyed') });
  });

  test('keys() pages through more entries than one SCAN page, each once', async () => {
    const dd = await DDict.connect(server.url, { name: 'paged' });
    await Promise.all(range(1, 1200).map((i) => dd.set(`k${i}`, i)));
    const keys = await collect(dd.keys());
    expect(keys).toHaveLength(1200);
    expect(sortedNumbers(keys.map((k) => k.slice(1)))).toEqual(range(1, 1200));
    expect(await dd.size()).toBe(1200);
    await dd.destroy();
  });

  test('a 50 MB value goes in and comes back whole', async () => {
    const dd = await DDict.connect(server.url, { name: 'large' });
    const big = Buffer.alloc(50 * 1024 * 1024);
    for (let i = 0; i < big.length; i += 4096) big[i] = i % 251;
    await dd.set('big', { name: 'payload', big });
    const back = await dd.get<{ name: string; big: Buffer }>('big');
    expect(back?.name).toBe('payload');
    expect(back?.big.length).toBe(big.length);
    expect(Buffer.compare(back!.big, big)).toBe(0);
    await dd.destroy();
  });

  test('a time to live per dictionary and per entry', async () => {
    const dd = await DDict.connect(server.url, { name: 'ttl', ttl: 60_000 });
    await dd.set('default', 1);
    await dd.set('forever', 2, { ttl: 0 });
    await dd.set('short', 3, { ttl: 50 });
    const pttl = await server.client.pttl('d4dict:{ttl}:e:default');
    expect(pttl).toBeGreaterThan(50_000);
    expect(pttl).toBeLessThanOrEqual(60_000);
    expect(await server.client.pttl('d4dict:{ttl}:e:forever')).toBe(-1);
    let gone = false;
    for (let i = 0; i < 200 && !gone; i++) {
      gone = !(await dd.has('short'));
      if (!gone) await new Promise((r) => setTimeout(r, 25));
    }
    expect(gone).toBe(true);
    expect(await collect(dd.keys())).toEqual(['default', 'forever']);
    await expect(dd.set('bad', 1, { ttl: -5 })).rejects.toMatchObject({ code: 'D4_OPTION' });
    await dd.destroy();
  });

  test('two dictionaries and a Redis job of the same name never share a key', async () => {
    const a = await DDict.connect(server.url, { name: 'shared' });
    const b = await DDict.connect(server.url, { name: 'shared2' });
    await a.set('meta', 'of a');
    await b.set('meta', 'of b');
    // A job whose id is the dictionary's name runs, and cleans its keys up, beside it.
    const result = await mappings.dyn_redis.run(await fixture('gated'), { '*': 20 }, { redisUrl: server.url, quiet: true, numProcesses: 2, job: 'shared' });
    expect(sortedNumbers(result.outputs.Identity2.output)).toEqual(range(1, 20));
    expect(await a.get('meta')).toBe('of a');
    expect(await b.get('meta')).toBe('of b');
    expect((await allKeys(server.client)).sort()).toEqual(['d4dict:{shared2}:e:meta', 'd4dict:{shared}:e:meta']);
    await a.destroy();
    expect(await allKeys(server.client)).toEqual(['d4dict:{shared2}:e:meta']);
    expect(await b.get('meta')).toBe('of b');
    await b.destroy();
  });

  test('a handle attaches another connection to the same entries', async () => {
    const dd = await DDict.connect(server.url, { name: 'handled', ttl: 5000 });
    expect(dd.handle).toEqual({ url: server.url, name: 'handled', ttl: 5000 });
    const other = await DDict.attach(JSON.parse(JSON.stringify(dd.handle)));
    await other.set('from-other', [1, 2]);
    expect(await dd.get('from-other')).toEqual([1, 2]);
    await other.close();
    await expect(other.has('from-other')).rejects.toMatchObject({ code: 'D4_DDICT_CLOSED' });
    expect(await dd.has('from-other')).toBe(true);
    await dd.destroy();
  });

  test('four processes writing at once lose nothing', async () => {
    const dd = await DDict.connect(server.url, { name: 'concurrent' });
    const writer = fileURLToPath(new URL('./fixtures/ddict-writer.mjs', import.meta.url));
    const exits = await Promise.all(
      range(1, 4).map(
        (w) =>
          new Promise<number | null>((resolve, reject) => {
            const child = spawn(process.execPath, [writer, JSON.stringify(dd.handle), String(w), '500'], { stdio: ['ignore', 'ignore', 'inherit'] });
            child.once('error', reject);
            child.once('exit', (code) => resolve(code));
          }),
      ),
    );
    expect(exits).toEqual([0, 0, 0, 0]);
    expect(await dd.size()).toBe(2000);
    for (const w of range(1, 4)) for (const i of [0, 250, 499]) expect(await dd.get(`w${w}:${i}`)).toEqual({ writer: w, i });
    await dd.destroy();
  });
});

describe('used from PEs', () => {
  test('PEs on dyn_redis workers attach through a handle in the graph arguments and store every item', async () => {
    const dd = await DDict.connect(server.url, { name: 'from-pes' });
    const module = fileURLToPath(new URL('./fixtures/ddict-graph.ts', import.meta.url));
    const workflow = await loadWorkflow(module, { exportName: 'storing', args: { handle: dd.handle } });
    const result = await mappings.dyn_redis.run(workflow, { '*': 50 }, { redisUrl: server.url, quiet: true, numProcesses: 2 });
    expect(sortedNumbers(result.outputs.StoreSquare1.output)).toEqual(range(1, 50));
    expect(await dd.size()).toBe(50);
    for (const n of range(1, 50)) expect(await dd.get(`square:${n}`)).toBe(n * n);
    await dd.destroy();
    expect(await allKeys(server.client)).toEqual([]);
  });
});

describe('refused before any work, as the Redis mappings refuse', () => {
  test('an unreachable server', async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    const error = await DDict.connect(url, { name: 'x' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(D4Error);
    expect(error).toMatchObject({ code: 'D4_REDIS_UNREACHABLE', message: expect.stringContaining(`cannot reach Redis at ${url} from the dictionary x (connect ECONNREFUSED`) });
  });

  test('a wrong password, hidden in the message', async () => {
    const secured = await startRedis(['--requirepass', 's3cret']);
    try {
      const error = await DDict.connect(`redis://:wrong@127.0.0.1:${secured.port}`, { name: 'x' }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'D4_REDIS_AUTH' });
      expect((error as Error).message).not.toContain('wrong');
      const dd = await DDict.connect(secured.url, { name: 'x' });
      await dd.set('k', 1);
      expect(await dd.get('k')).toBe(1);
      await dd.destroy();
    } finally {
      await secured.stop();
    }
  });

  test('an eviction policy other than noeviction', async () => {
    const evicting = await startRedis(['--maxmemory-policy', 'allkeys-lru']);
    try {
      const error = await DDict.connect(evicting.url, { name: 'x' }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'D4_REDIS_EVICTION', message: expect.stringContaining('maxmemory-policy allkeys-lru') });
      expect(await allKeys(evicting.client)).toEqual([]);
    } finally {
      await evicting.stop();
    }
  });

  test('a URL that is not redis://, a name that could spell another prefix, a key that is not a string', async () => {
    await expect(DDict.connect('http://127.0.0.1:6379', { name: 'x' })).rejects.toMatchObject({ code: 'D4_REDIS_URL' });
    await expect(DDict.connect(server.url, { name: 'a}:e:b' })).rejects.toMatchObject({ code: 'D4_DDICT_NAME', message: expect.stringContaining('"a}:e:b"') });
    const dd = await DDict.connect(server.url, { name: 'keys' });
    await expect(dd.set(7 as unknown as string, 1)).rejects.toMatchObject({ code: 'D4_DDICT_KEY', message: expect.stringContaining('DDict keys: keys are strings, got number') });
    await dd.destroy();
  });
});
