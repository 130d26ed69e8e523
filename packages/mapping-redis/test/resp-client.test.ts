import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { ReplyError, RespClient, encodeCommand, parseReply } from '../src/resp-client.js';
import { LUA } from '../src/scripts.js';
import { freePort, startRedis, type TestRedis } from './redis-server.js';

/** The heartbeat thread's client (resp-client.ts) against a real server. */
describe('the heartbeat thread client', () => {
  let server: TestRedis;
  let secured: TestRedis;
  beforeAll(async () => {
    server = await startRedis();
    secured = await startRedis(['--requirepass', 's3cret']);
  });
  afterAll(async () => {
    await server?.stop();
    await secured?.stop();
  });

  test('runs a script by EVALSHA after loading it once with EVAL, and reads its integer and array replies', async () => {
    await server.client.script('FLUSH');
    const client = new RespClient(server.url);
    try {
      const lua = "redis.call('SET', KEYS[1], ARGV[1]) return {tonumber(ARGV[1]), 2, 3}";
      expect(await client.script(lua, ['k1'], [7])).toEqual([7, 2, 3]);
      // The first call fell back to EVAL (NOSCRIPT), which cached the script on the server.
      expect(await server.client.script('EXISTS', sha1(lua))).toEqual([1]);
      expect(await client.script(lua, ['k1'], [8])).toEqual([8, 2, 3]);
      expect(await server.client.get('k1')).toBe('8');
      expect(await client.script(LUA.takeLease, ['no-meta', 'lease'], ['c', 1000])).toBe(-1);
    } finally {
      client.close();
    }
  });

  test('sends the password and the database of the URL', async () => {
    const client = new RespClient(`${secured.url}/3`);
    try {
      expect(await client.call('SET', 'in-db-3', 'yes')).toBe('OK');
      await secured.client.select(3);
      expect(await secured.client.get('in-db-3')).toBe('yes');
    } finally {
      await secured.client.select(0);
      client.close();
    }
    const wrong = new RespClient(`redis://:nope@127.0.0.1:${secured.port}`);
    await expect(wrong.call('PING')).rejects.toThrow(/WRONGPASS|invalid password/);
    wrong.close();
  });

  test('an error reply rejects that call with a ReplyError and the next calls go on', async () => {
    const client = new RespClient(server.url);
    try {
      await expect(client.call('NOSUCHCOMMAND')).rejects.toBeInstanceOf(ReplyError);
      expect(await client.call('ECHO', Buffer.from('after'))).toBe('after');
    } finally {
      client.close();
    }
  });

  test('a connection the server closed fails its waiting call and the next call opens a new one', async () => {
    const client = new RespClient(server.url);
    try {
      await client.call('CLIENT', 'SETNAME', 'resp-test');
      const blocked = client.call('BLPOP', 'never-pushed', 0);
      // Killed once the server shows it blocked, so that the kill finds a call waiting.
      while (!/name=resp-test .*cmd=blpop/.test(String(await server.client.client('LIST')))) await new Promise((r) => setTimeout(r, 10));
      await server.client.client('KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
      await expect(blocked).rejects.toThrow('Connection is closed.');
      expect(await client.call('PING')).toBe('PONG');
    } finally {
      client.close();
    }
  });

  test('a server that is not there fails the call with the socket error', async () => {
    const client = new RespClient(`redis://127.0.0.1:${await freePort()}`);
    await expect(client.call('PING')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  test('replies split across reads are parsed only once complete', () => {
    const bytes = Buffer.from('*3\r\n:1\r\n$5\r\nhello\r\n*2\r\n+OK\r\n$-1\r\n-ERR bad\r\n');
    for (let cut = 0; cut < 30; cut++) expect(parseReply(bytes.subarray(0, cut), 0)).toBeUndefined();
    const first = parseReply(bytes, 0)!;
    expect(first.reply).toEqual([1, 'hello', ['OK', null]]);
    const second = parseReply(bytes, first.end)!;
    expect(second.reply).toBeInstanceOf(ReplyError);
    expect((second.reply as ReplyError).message).toBe('ERR bad');
    expect(second.end).toBe(bytes.length);
    expect(encodeCommand(['SET', 'k', 12, Buffer.from([0, 255])]).toString('latin1')).toBe('*4\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\n12\r\n$2\r\n\u0000\u00ff\r\n');
  });
});

function sha1(text: string): string {
  return createHash('sha1').update(text).digest('hex');
}
