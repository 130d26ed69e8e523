import { loadMpi, type MpiComm, type MpiLibrary } from './mpi-api.js';
import { Mailbox } from './mailbox.js';
import { TAG } from './tags.js';

/** This process's place in the MPI world, with its one receive loop. */
export interface World {
  readonly mpi: MpiLibrary;
  readonly comm: MpiComm;
  readonly mailbox: Mailbox;
  readonly rank: number;
  readonly size: number;
  /** The host this rank runs on (MPI's processor name), for messages. */
  readonly host: string;
}

let opened: Promise<World> | undefined;
let finalized = false;

/**
 * Joins the MPI world once per process. Open MPI's shared-memory transport otherwise
 * tries a single-copy mechanism (CMA) that fails where ptrace is restricted (containers),
 * printing dispel4py's infamous "Read -1, expected …, errno = 1" on every large message:
 * d4 turns it off unless the user chose a mechanism, before MPI reads its parameters.
 */
export function openWorld(): Promise<World> {
  if (finalized) return Promise.reject(new Error('MPI was finalized'));
  process.env.OMPI_MCA_btl_vader_single_copy_mechanism ??= 'none';
  opened ??= loadMpi().then(async (mpi) => {
    await mpi.init();
    const comm = mpi.COMM_WORLD;
    return { mpi, comm, mailbox: new Mailbox(comm), rank: comm.rank, size: comm.size, host: mpi.processorName };
  });
  return opened;
}

/** Whether this process already ended its part of the world (MPI cannot start again). */
export function worldFinalized(): boolean {
  return finalized;
}

/** Rank 0: every rank (itself too) leaves its receive loop. */
export async function stopEveryRank(world: World): Promise<void> {
  await Promise.all(Array.from({ length: world.size }, (_, r) => world.comm.send(0, r, TAG.stop)));
}

/** After this rank's receive loop ended: MPI_Finalize (every rank must, or mpiexec reports an error). */
export async function closeWorld(world: World): Promise<void> {
  await world.mailbox.done;
  finalized = true;
  await world.mpi.finalize();
}
