import { describe, expect, test } from '@jest/globals';
import { ofRank, runMpi } from './mpiexec.js';

describe('receives pending beside timers and fs work', () => {
  test('48 pending receives leave fs reads (8 at once, 4 libuv threads) and timers running, then each gets its own message', async () => {
    const run = await runMpi('pending', 3, { env: { UV_THREADPOOL_SIZE: '4' } });
    expect(run.status).toBe(0);
    const root = ofRank(run, 0);
    expect(root.events).toEqual(['fs true with 0 settled', 'timer with 0 settled']);
    expect(root.tagged).toEqual(Array.from({ length: 40 }, (_, i) => [`value ${100 + i}`, 100 + i, 1]));
    expect(root.any).toEqual(Array.from({ length: 8 }, (_, i) => [`extra ${i}`, 500 + i]));
    expect(ofRank(run, 1)).toEqual({ rank: 1, sent: 48 });
  });
});
