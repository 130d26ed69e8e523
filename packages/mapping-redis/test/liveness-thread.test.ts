import { createHash } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { Liveness } from '../src/liveness.js';
import { parseReply, type Reply } from '../src/resp-client.js';
import { LUA } from '../src/scripts.js';
import { waitFor } from './helpers.js';

/**
 * The heartbeat thread against a server that runs a worker's REGISTER and then answers no
 * heartbeat (a Redis that has stalled): the thread goes on sending one at each tick, up to
 * four unanswered, instead of waiting for the first reply before the next beat.
 */
const sha = (lua: string) => createHash('sha1').update(lua).digest('hex');
const REGISTER = sha(LUA.register);
const HEARTBEAT = sha(LUA.heartbeat);

let server: Server;
let url: string;
const heartbeats: string[] = [];
const others: string[] = [];

beforeAll(async () => {
  server = createServer((socket: Socket) => {
    let buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (let parsed = parseReply(buffer, 0); parsed; parsed = parseReply(buffer, 0)) {
        buffer = buffer.subarray(parsed.end);
        const command = parsed.reply as Reply[] as string[];
        const [name, script] = command;
        if (name === 'EVALSHA' && script === REGISTER) socket.write(':0\r\n');
        // EVALSHA sha numkeys meta driverAlive alive …: the worker's heartbeat key.
        else if (name === 'EVALSHA' && script === HEARTBEAT) heartbeats.push(command[5]);
        else others.push(command.slice(0, 2).join(' '));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `redis://127.0.0.1:${(server.address() as { port: number }).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

test('a heartbeat goes at each tick while earlier ones are unanswered, four at most; scripts run by the SHA1 the main thread gave', async () => {
  const live = Liveness.acquire(url);
  try {
    await live.ready;
    const keys = { meta: 'm', driverAlive: 'da', alive: 'hb:w1', driver: 'd', counters: 'c' };
    const member = await live.join(
      { consumer: 'w1', register: { keys: ['m', 'workers', 'ctl', 'hb:w1', 'rank'], args: ['w1', 'd4', 1000, 0] }, leases: [], keys, aliveMs: 1000, everyMs: 50 },
      { fatal: () => {}, lost: () => {}, silent: () => {} },
    );
    expect(member.rank).toBe(0);
    await waitFor(() => heartbeats.length >= 4, 'four heartbeats without an answer');
    // Ten more ticks: none goes while four are in flight.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(heartbeats).toEqual(['hb:w1', 'hb:w1', 'hb:w1', 'hb:w1']);
    // No EVAL (the thread had the SHA1s) and nothing else.
    expect(others).toEqual([]);
    member.leave();
  } finally {
    live.release();
  }
});
