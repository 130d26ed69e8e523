import { D4Error } from '@d4/core';

/**
 * The part of @d4/mpi's API this mapping uses (issue 13 names it): a world communicator with
 * point-to-point messages whose values cross through core's codec (bytes without a copy).
 */
export interface MpiComm {
  readonly rank: number;
  readonly size: number;
  send(value: unknown, dest: number, tag?: number): Promise<void>;
  recv(options?: { source?: number; tag?: number }): Promise<{ value: unknown; source: number; tag: number }>;
  abort(code: number): unknown;
}

export interface MpiLibrary {
  init(): Promise<unknown>;
  readonly COMM_WORLD: MpiComm;
  finalize(): unknown;
  readonly processorName: string;
}

let loaded: Promise<MpiLibrary> | undefined;
const ADDON = '@d4/mpi';

/**
 * @d4/mpi, imported on first use: `d4 list` and a launcher that only starts mpiexec never
 * load the native addon. Its own error (no MPI library installed, addon not built) says what
 * to install, and is passed on as it is.
 */
export function loadMpi(): Promise<MpiLibrary> {
  loaded ??= (import(ADDON) as Promise<{ MPI: MpiLibrary }>).then(
    (module: { MPI: MpiLibrary }) => module.MPI,
    (error: unknown) => {
      loaded = undefined;
      if (error instanceof D4Error) throw error;
      throw new D4Error('D4_MPI_UNAVAILABLE', `the mpi mapping cannot load @d4/mpi: ${(error as Error).message}; install Open MPI (Debian: apt-get install openmpi-bin libopenmpi-dev) and reinstall @d4/mpi so that its addon is built`, { cause: error });
    },
  );
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
