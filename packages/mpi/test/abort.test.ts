import { describe, expect, test } from '@jest/globals';
import { ofRank, runMpi } from './mpiexec.js';

describe('abort, crashes and the end of a script under mpiexec', () => {
  test('COMM_WORLD.abort(3) on rank 1 ends every rank, those waiting in recv and barrier too, with exit code 3', async () => {
    const run = await runMpi('abort', 3);
    expect(run.timedOut).toBe(false);
    expect(run.status).toBe(3);
    // mpiexec says so, except when Open MPI 4.1's own help-message system loses the race
    // with the ranks it kills (about one run in three here): then it logs an ORTE_ERROR_LOG from show_help.c instead.
    expect(run.stderr).toMatch(/MPI_ABORT was invoked on rank 1 in communicator MPI_COMM_WORLD\nwith errorcode 3\.|ORTE_ERROR_LOG: .+ in file \S+show_help\.c/);
    expect(run.results.filter((r) => r.started).map((r) => r.rank).sort()).toEqual([0, 1, 2]);
    expect(run.results.filter((r) => r.finished)).toEqual([]);
  });

  test('a rank that dies of an uncaught error while the others wait in recv ends the job with a non-zero exit, naming the rank', async () => {
    const run = await runMpi('crash', 3);
    expect(run.timedOut).toBe(false);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('Error: rank 1 fails on purpose');
    expect(run.stderr).toMatch(/mpiexec detected that one or more processes exited with non-zero status[\s\S]*Process name: \[\[\d+,1\],1\]\n\s*Exit code:\s+1/);
    expect(run.results.filter((r) => r.finished)).toEqual([]);
  });

  test('a script that ends without MPI.finalize() is finalised on the way out and every rank exits 0', async () => {
    const run = await runMpi('no-finalize', 2);
    expect(run.status).toBe(0);
    expect(run.stderr).toBe('');
    for (const rank of [0, 1]) expect(ofRank(run, rank)).toEqual({ rank, sum: 3, initializedAtExit: false });
  });
});
