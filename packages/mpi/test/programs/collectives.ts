// Every collective, on values each rank derives from its rank, so the test can compute
// what every rank must see.
import { MPI } from '../../src/index.js';
import { main, report } from './report.js';

main(async () => {
  const world = await MPI.init();
  const { rank, size } = world;
  const last = size - 1;
  // Started together without awaiting: they must still run in the same order everywhere.
  const [bcastObject, bcastTyped, gathered, gatheredTyped, all] = await Promise.all([
    world.bcast(rank === 1 ? { from: 1, list: [1, 2, 3], when: new Map([['k', 'v']]) } : undefined, 1),
    world.bcast(rank === last ? Float32Array.of(0.5, 1.5) : undefined, last),
    world.gather({ rank, text: 'x'.repeat(rank) }, 0),
    world.gather(Int32Array.from({ length: rank + 1 }, (_, i) => rank * 10 + i), last),
    world.allgather(rank % 2 === 0 ? `even ${rank}` : BigUint64Array.of(BigInt(rank))),
  ]);
  const reductions: Record<string, unknown> = {};
  for (const op of ['sum', 'min', 'max', 'prod'] as const) {
    reductions[`number ${op}`] = await world.allreduce(rank + 1, op);
    reductions[`bigint ${op}`] = await world.allreduce(BigInt(rank + 2), op);
    reductions[`float64 ${op}`] = await world.allreduce(Float64Array.of(rank, 0 - rank, 0.5), op);
    reductions[`int32 ${op}`] = await world.reduce(Int32Array.of(rank, 7 - rank), op, 0);
    reductions[`uint8 ${op}`] = await world.reduce(Uint8Array.of(rank + 1), op, last);
  }
  // Ranks that disagree all get the same error instead of MPI's undefined behaviour.
  const mismatch = await world.allreduce(new Int32Array(rank === last ? 3 : 2), 'sum').then(
    () => 'no error',
    (error: { code: string; message: string }) => [error.code, error.message],
  );
  const mixed = await world.reduce(rank === 0 ? Int32Array.of(1) : 1, 'max', 0).then(
    () => 'no error',
    (error: { code: string; message: string }) => [error.code, error.message],
  );
  await world.barrier();
  report(rank, { mismatch, mixed, bcastObject, bcastTyped, gathered, gatheredTyped, all, reductions });
  await MPI.finalize();
});
