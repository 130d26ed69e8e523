import type { Communicator, Mpi } from '@d4/mpi';

export type { Communicator, Mpi };

let loaded: Promise<Mpi> | undefined;

/**
 * @d4/mpi, imported on first use: `d4 list` and a launcher that only starts mpiexec never
 * load the native addon. Its own error (D4_MPI_MISSING: no MPI library, addon not built)
 * says what to install, and is passed on as it is.
 */
export function loadMpi(): Promise<Mpi> {
  loaded ??= import('@d4/mpi').then((module) => module.MPI);
  return loaded;
}

/**
 * Whether this process was started by an MPI launcher (mpiexec, srun with PMIx): then the
 * run's size is the world's and every rank runs `run()` (dispel4py's model); otherwise the
 * mapping starts mpiexec itself.
 */
export function startedByMpiLauncher(env: NodeJS.ProcessEnv = process.env): boolean {
  return ['OMPI_COMM_WORLD_SIZE', 'PMIX_RANK', 'PMI_RANK', 'PMI_SIZE'].some((name) => env[name] !== undefined);
}
