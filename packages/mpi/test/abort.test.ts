import { describe, expect, test } from '@jest/globals';
import { runMpi } from './mpiexec.js';

describe('abort under mpiexec', () => {
  test('COMM_WORLD.abort(3) on rank 1 ends every rank, those waiting in recv and barrier too, with exit code 3', async () => {
    const run = await runMpi('abort', 3);
    expect(run.timedOut).toBe(false);
    expect(run.status).toBe(3);
    expect(run.stderr).toContain('MPI_ABORT was invoked on rank 1 in communicator MPI_COMM_WORLD\nwith errorcode 3.');
    expect(run.results.filter((r) => r.started).map((r) => r.rank).sort()).toEqual([0, 1, 2]);
    expect(run.results.filter((r) => r.finished)).toEqual([]);
  });
});
