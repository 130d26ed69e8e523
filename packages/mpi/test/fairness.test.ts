import { describe, expect, test } from '@jest/globals';
import { ofRank, runMpi } from './mpiexec.js';

describe('receives that complete on the JavaScript thread leave the event loop its turns', () => {
  test('a loop of await recv() over 2 000 messages already there lets a due timer fire within 128 receives (-n 2)', async () => {
    const run = await runMpi('flood', 2);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const root = ofRank(run, 0);
    expect(root).toMatchObject({ inOrder: true, received: 2000 });
    // Every 64 receives without a turn, one waits for a setImmediate: the timer fires at
    // the second such wait at the latest (without it, at 2 000, after the loop).
    expect(root.timerFiredAt).toBeGreaterThanOrEqual(0);
    expect(root.timerFiredAt).toBeLessThanOrEqual(128);
    expect(ofRank(run, 1)).toEqual({ rank: 1, sent: 2000 });
  });
});
