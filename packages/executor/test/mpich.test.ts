import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { Executor } from '../src/index.js';
// A copy of @d4/mpi built against MPICH, made where @d4/mpi's own MPICH test makes it.
import { buildMpichCopy, removeMpichBuild } from '../../mpi/test/mpich-build.js';
import { rejectionOf } from './helpers.js';

async function calc(i: number) {
  const { MPI } = await import('@d4/mpi');
  return [i, MPI.COMM_WORLD.size, MPI.COMM_WORLD.rank];
}

let copy = '';
beforeAll(() => {
  copy = buildMpichCopy(`executor-mpich-${process.pid}`);
}, 320_000);
afterAll(() => removeMpichBuild(copy));

// The executor starts MPI-parallel workers with Open MPI's mpiexec (or srun --mpi=pmix). The
// ranks of an addon built against MPICH cannot join that job: each starts as a world of its
// own, and calc(3) would give [[3, 1, 0], [3, 1, 0]] (seen here before the check).
describe('an MPI-parallel worker whose @d4/mpi is built against MPICH', () => {
  test('is refused with D4_MPI_SIZE naming the build and what to do, not run as two worlds of one rank', async () => {
    const before = process.env.D4_MPI_ADDON;
    process.env.D4_MPI_ADDON = copy; // the ranks inherit it: they load the MPICH build
    try {
      await using exe = new Executor({ maxCores: 2, coresPerWorker: 2 });
      const error = await rejectionOf(exe.submit(calc, 3));
      expect(error).toMatchObject({ code: 'D4_INIT_FAILED' });
      // Whichever rank reports first.
      expect(error.message).toMatch(/^worker 1 could not start: rank [01] of 2: this worker was started as 2 MPI ranks, but MPI's world in its rank has 1: @d4\/mpi is built against MPICH, /);
      expect(error.message).toContain('rebuild @d4/mpi against Open MPI (D4_MPI=openmpi)');
      expect((error.cause as { code?: string } | undefined)?.code).toBe('D4_MPI_SIZE');
    } finally {
      if (before === undefined) delete process.env.D4_MPI_ADDON;
      else process.env.D4_MPI_ADDON = before;
    }
  }, 120_000);
});
