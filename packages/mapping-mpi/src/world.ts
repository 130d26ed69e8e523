import { decode, encode } from '@d4/core';
import { loadMpi, type Communicator, type Mpi } from './mpi-api.js';
import { Mailbox } from './mailbox.js';
import { TAG } from './tags.js';

/** This process's place in the MPI world, with its one receive loop. */
export interface World {
  readonly mpi: Mpi;
  readonly comm: Communicator;
  readonly mailbox: Mailbox;
  readonly rank: number;
  readonly size: number;
  /** The host this rank runs on (MPI's processor name), for messages. */
  readonly host: string;
}

let opened: Promise<World> | undefined;

/**
 * Joins the MPI world once per process, with Open MPI's shared-memory transport set for
 * d4's messages unless the user chose otherwise (set before MPI reads its parameters):
 * - no single-copy mechanism (CMA): it fails where ptrace is restricted (containers),
 *   printing dispel4py's infamous "Read -1, expected …, errno = 1" on large messages;
 * - an eager limit of 32 KB (Open MPI's default is 4 KB, its fragments are 32 KB): a
 *   batch of 1024-4096 small items is 5-20 KB, and above the limit each send waits for
 *   the receiver (rendezvous), its request then polled by the addon's progress thread for
 *   up to 10 ms, which took CPU from the ranks doing the work when ranks outnumber cores;
 * - no yield inside MPI's calls (mpi_yield_when_idle=0): under --oversubscribe Open MPI
 *   calls sched_yield in every MPI_Test or MPI_Improbe that finds nothing, and with Linux's
 *   scheduler (EEVDF) that gives the core away for a whole time slice, so each send of the
 *   JavaScript thread (an MPI_Isend, then one MPI_Test) took 3-11 ms of wall at -n 6 on 2
 *   cores; the addon's progress thread has its own back-off (engine.cc) and the JavaScript
 *   thread's waits are bounded (spin.h). pipeline_test -n 6, 4 runs each in turns at load
 *   ~9-20: wall inside the ranks' sends and receives, summed, median 6.0 s with the yield,
 *   3.1 s without.
 */
export function openWorld(): Promise<World> {
  process.env.OMPI_MCA_btl_vader_single_copy_mechanism ??= 'none';
  process.env.OMPI_MCA_btl_vader_eager_limit ??= '32768';
  process.env.OMPI_MCA_mpi_yield_when_idle ??= '0';
  opened ??= loadMpi().then(async (mpi) => {
    const comm = await mpi.init();
    return { mpi, comm, mailbox: new Mailbox(comm), rank: comm.rank, size: comm.size, host: mpi.processorName };
  });
  return opened;
}

/** Sends a value of the mapping's own protocol (a job, a report) through core's codec, as bytes. */
export function sendValue(world: World, value: unknown, dest: number, tag: number): Promise<void> {
  // The codec reuses its buffer, and MPI reads the bytes after this returns: a copy of their own.
  return world.comm.sendBytes(new Uint8Array(encode(value)), dest, tag);
}

export function receivedValue<T>(bytes: Buffer): T {
  return decode<T>(bytes);
}

let stopped: Promise<void> | undefined;

/**
 * Rank 0: every rank (itself too) leaves its receive loop. Once, as the world is opened
 * once: the backend's stop() and the end of the run both ask, and a second `stop` would
 * reach every rank after its loop ended, never received (MPICH's UCX says so at
 * MPI_Finalize, once per rank).
 */
export function stopEveryRank(world: World): Promise<void> {
  stopped ??= Promise.all(Array.from({ length: world.size }, (_, r) => world.comm.sendBytes(new Uint8Array(0), r, TAG.stop))).then(() => undefined);
  return stopped;
}

/** After this rank's receive loop ended: MPI_Finalize (every rank must, or mpiexec reports an error). */
export async function closeWorld(world: World): Promise<void> {
  await world.mailbox.done;
  await world.mpi.finalize();
}
