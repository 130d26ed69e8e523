import { describe, expect, test } from '@jest/globals';
import { ofRank, runMpi } from './mpiexec.js';

const MB64 = 64 * 1024 * 1024;

describe('large messages under mpiexec', () => {
  test('64 MB go through send/recv (Float64Array), sendBytes/recvBytes and bcast (a codec value) intact', async () => {
    const run = await runMpi('large', 2, { deadlineMs: 55_000 });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(ofRank(run, 1).floats).toEqual(['Float64Array', MB64 / 8, -1]);
    expect(ofRank(run, 0).bytesBack).toEqual([MB64, -1]);
    for (const rank of [0, 1]) expect(ofRank(run, rank).bcast).toEqual(['blob', MB64, -1]);
  });
});
