import { describe, expect, test } from '@jest/globals';
import { ofRank, runMpi } from './mpiexec.js';

const KB = 1024;
const SIZES = [16, 10 * KB, 200 * KB, 64 * KB];

describe("the JavaScript thread's own receives under mpiexec", () => {
  test('inline and threaded receives of one stream keep its order; any-source and tags match inline; over 128 KB falls back to the progress thread (-n 3)', async () => {
    // D4_MPI_SPIN=on: 3 ranks on a 2-core machine would otherwise never spin (spin.h).
    const run = await runMpi('inline', 3, { env: { D4_MPI_TRACE: '1', D4_MPI_SPIN: 'on' } });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const root = ofRank(run, 0);
    // Every message in the order sent, each intact, whichever thread received it.
    expect(root.stream).toEqual(Array.from({ length: 12 }, (_, seq) => [seq, SIZES[seq % 4], true]));
    // The paths that do not depend on timing: a small message already here is taken on
    // the JavaScript thread; one over 128 KB, and any receive posted behind a pending one,
    // on the progress thread. (The 10 KB and 64 KB ones are inline unless the thread was
    // descheduled past the hold limit.)
    const paths = root.streamPaths as string[];
    expect([0, 2, 3, 4, 6, 8, 10, 11].map((i) => paths[i])).toEqual(['inline', 'threaded', 'threaded', 'inline', 'threaded', 'inline', 'threaded', 'threaded']);
    // tag 31 from whichever rank, then that rank's other message, then the other rank's
    // two in the order it sent them: all matched on the JavaScript thread at once.
    const [a, b, c, d] = root.anySource as Array<[string, number, number]>;
    const first = a[1];
    const other = 3 - first;
    expect([a, b, c, d]).toEqual([
      [`${first}:31`, first, 31],
      [`${first}:30`, first, 30],
      [`${other}:30`, other, 30],
      [`${other}:31`, other, 31],
    ]);
    expect(root.anyPaths).toEqual(['inline', 'inline', 'inline', 'inline']);
    // Posted 50 ms before its message: the spin gave up and the progress thread got it.
    // 200 KB of raw bytes matched inline are received by the progress thread, intact.
    expect(root.fallback).toEqual(['late', 200 * KB, true]);
    expect(root.fallbackPaths).toEqual(['threaded', 'threaded']);
    // 200 round trips of 16 B to 200 KB, each echo checked byte by byte.
    expect(root.pingPong).toBe(200);
    expect(ofRank(run, 1)).toEqual({ rank: 1, done: true });
    expect(ofRank(run, 2)).toEqual({ rank: 2, done: true });
  });
});
