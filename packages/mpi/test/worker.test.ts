import { describe, expect, test } from '@jest/globals';
import { ofRank, runMpi } from './mpiexec.js';

describe('MPI in a worker thread under mpiexec', () => {
  test('a worker initialises MPI and runs collectives; a second init in the same process is refused', async () => {
    const run = await runMpi('worker', 2);
    expect(run.status).toBe(0);
    const refused = ['D4_MPI_ARGUMENT', 'MPI: MPI was already initialized by another thread of this process; initialize MPI in one thread (the main one or a single worker) per process'];
    expect(ofRank(run, 0)).toEqual({ rank: 0, size: 2, sum: 3, gathered: ['rank 0 in a worker', 'rank 1 in a worker'], second: refused });
    expect(ofRank(run, 1)).toEqual({ rank: 1, size: 2, sum: 3, second: refused });
  });
});
