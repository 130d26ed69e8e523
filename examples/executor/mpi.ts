// pympipool's MPI example (test_mpi.py): one function on the two MPI ranks of a worker.
// Run: npx tsx examples/executor/mpi.ts   → prints [[3,2,0],[3,2,1]]
// Here through mpiexec; inside a SLURM allocation (salloc -n 2 npx tsx …) through srun --mpi=pmix.
// As root, d4 passes mpiexec --allow-run-as-root itself.
import { Executor } from '@d4/executor';

async function calc(i: number) {
  const { MPI } = await import('@d4/mpi');
  return [i, MPI.COMM_WORLD.size, MPI.COMM_WORLD.rank];
}

// Workers of several cores are MPI ranks (pympipool's cores_per_worker); backend: 'mpi' says it outright.
await using exe = new Executor({ maxCores: 2, coresPerWorker: 2 });
console.log(JSON.stringify(await exe.submit(calc, 3)));
