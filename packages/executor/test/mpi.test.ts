import { describe, expect, test } from '@jest/globals';
import { Executor } from '../src/index.js';
import { broadcastFromZero } from './fixtures/mpi-tasks.js';
import { rejectionOf } from './helpers.js';

// MPI-parallel tasks on this machine: each worker is `mpiexec -n <cores>` ranks of the worker,
// every rank runs the task, the future gets the ranks' results in rank order.
// No OMPI_ALLOW_RUN_AS_ROOT here: as root (CI), d4 passes mpiexec --allow-run-as-root itself.

async function calc(i: number) {
  const { MPI } = await import('@d4/mpi');
  return [i, MPI.COMM_WORLD.size, MPI.COMM_WORLD.rank];
}

describe("backend: 'mpi' (mpiexec)", () => {
  test("pympipool's test_mpi as issue 15 writes it, no backend named: coresPerWorker 2 makes 2-rank workers, calc(3) gives [[3, 2, 0], [3, 2, 1]]", async () => {
    await using exe = new Executor({ maxCores: 2, coresPerWorker: 2 });
    expect(await exe.submit(calc, 3)).toEqual([
      [3, 2, 0],
      [3, 2, 1],
    ]);
  }, 60_000);

  test("pympipool's test_mpi: calc(3) on a 2-rank worker gives [[3, 2, 0], [3, 2, 1]]", async () => {
    await using exe = new Executor({ backend: 'mpi', maxCores: 2, coresPerWorker: 2 });
    expect(await exe.submit(calc, 3)).toEqual([
      [3, 2, 0],
      [3, 2, 1],
    ]);
  }, 60_000);

  test('block allocation: the ranks stay up task after task, init runs on every rank, and ranks talk to each other', async () => {
    const init = async () => {
      const { MPI } = await import('@d4/mpi');
      return { initRank: MPI.COMM_WORLD.rank };
    };
    const sumOfRanks = async (i: number, { initRank }: { initRank: number }) => {
      const { MPI } = await import('@d4/mpi');
      const total = await MPI.COMM_WORLD.allreduce(MPI.COMM_WORLD.rank + i, 'sum');
      return [initRank, total, process.pid];
    };
    await using exe = new Executor({ backend: 'mpi', maxCores: 2, coresPerWorker: 2, blockAllocation: true, init });
    // With several ranks the future holds one result per rank (a list the function's type cannot show).
    const results: [number, number, number][][] = [];
    for (let i = 0; i < 5; i++) results.push((await exe.submit(sumOfRanks, i)) as unknown as [number, number, number][]);
    // rank r reports its init rank r; the allreduce of (rank + i) over 2 ranks is 1 + 2i.
    expect(results.map((r) => r.map(([rank, total]) => [rank, total]))).toEqual([0, 1, 2, 3, 4].map((i) => [[0, 1 + 2 * i], [1, 1 + 2 * i]]));
    // Same processes every time: the worker was not restarted.
    expect(new Set(results.map((r) => r.map(([, , pid]) => pid).join(','))).size).toBe(1);
  }, 60_000);

  test('a dependent of a task on a 2-rank worker gets the list of both ranks\' results: MPI workers never forward dependents', async () => {
    await using exe = new Executor({ backend: 'mpi', maxCores: 2, coresPerWorker: 2, blockAllocation: true });
    const first = exe.submit(calc, 3);
    // Each rank would hold only its own result; the dependent must see both, so it goes through the executor.
    const count = exe.submit((ranks: unknown) => (ranks as unknown[]).length, first);
    expect(await count).toEqual([2, 2]);
    expect(exe.forwarded).toBe(0);
  }, 60_000);

  test('submitWith({ cores: 2 }) gives one call two ranks; oversubscribe allows more ranks than cores', async () => {
    await using exe = new Executor({ backend: 'mpi', maxCores: 3, coresPerWorker: 1, oversubscribe: true });
    expect(await exe.submitWith({ cores: 2 }, calc, 5)).toEqual([
      [5, 2, 0],
      [5, 2, 1],
    ]);
    expect(await exe.submitWith({ cores: 3 }, calc, 6)).toEqual([
      [6, 3, 0],
      [6, 3, 1],
      [6, 3, 2],
    ]);
    expect(await exe.submit(calc, 7)).toEqual([7, 1, 0]);
  }, 60_000);

  test('a function by reference runs on every rank too (its module imports @d4/mpi at the top)', async () => {
    await using exe = new Executor({ backend: 'mpi', maxCores: 2, coresPerWorker: 2 });
    expect(await exe.submit(broadcastFromZero, 'hello')).toEqual(['0:hello', '1:hello']);
  }, 60_000);

  test('a rank that throws fails the task with its rank and stack; the worker is replaced and the next task runs', async () => {
    const failOnOne = async (i: number) => {
      const { MPI } = await import('@d4/mpi');
      if (MPI.COMM_WORLD.rank === 1) throw new RangeError(`rank one refuses ${i}`);
      await MPI.COMM_WORLD.barrier(); // rank 0 would wait here forever for rank 1
      return MPI.COMM_WORLD.rank;
    };
    await using exe = new Executor({ backend: 'mpi', maxCores: 2, coresPerWorker: 2, blockAllocation: true });
    const error = await rejectionOf(exe.submit(failOnOne, 9));
    expect(error.code).toBe('D4_TASK_FAILED');
    expect(error.message).toMatch(/^task #\d+ \(failOnOne\) failed: RangeError: rank 1 of 2: rank one refuses 9$/);
    expect((error.cause as { stack?: string }).stack).toContain('rank one refuses 9');
    expect(await exe.submit(calc, 1)).toEqual([
      [1, 2, 0],
      [1, 2, 1],
    ]);
  }, 60_000);

  test('a rank that dies fails the task with D4_WORKER_CRASHED naming the rank; nothing hangs, the next task runs', async () => {
    const dieOnOne = async () => {
      const { MPI } = await import('@d4/mpi');
      if (MPI.COMM_WORLD.rank === 1) process.exit(5);
      await MPI.COMM_WORLD.barrier();
      return 'unreachable';
    };
    await using exe = new Executor({ backend: 'mpi', maxCores: 2, coresPerWorker: 2, blockAllocation: true });
    const error = await rejectionOf(exe.submit(dieOnOne));
    expect(error.code).toBe('D4_WORKER_CRASHED');
    expect(error.message).toMatch(/^the mpi worker 1 running task #\d+ \(dieOnOne\) (ended: rank 1 of 2 closed its connection \(it exited or died\)|exited with code \d+)/);
    expect(await exe.submit(calc, 2)).toEqual([
      [2, 2, 0],
      [2, 2, 1],
    ]);
  }, 60_000);

  test('without mpiexec on PATH the task fails with D4_WORKER_CRASHED saying mpiexec could not be started; nothing hangs', async () => {
    await using exe = new Executor({ backend: 'mpi', maxCores: 2, coresPerWorker: 2, env: { PATH: '/nonexistent' } });
    const error = await rejectionOf(exe.submit(calc, 1));
    expect(error.code).toBe('D4_WORKER_CRASHED');
    expect(error.message).toMatch(/^the mpi worker 1 running task #\d+ \(calc\) ended: mpiexec could not be started \(spawn mpiexec ENOENT\); is it installed and on PATH\?;/);
  }, 60_000);
});
