import { Communicator, type WorldState } from './communicator.js';
import { MpiError } from './errors.js';
import { addon } from './load-addon.js';

/**
 * The process's MPI: `await MPI.init()`, then `MPI.COMM_WORLD`. A process started without
 * a launcher (no mpiexec, srun) is a world of size 1. A script that ends with MPI still
 * initialised is finalised on the way out ('beforeExit'); process.exit() and crashes are
 * not (MPI_Finalize waits for every rank, so it could hang): mpiexec then reports the rank
 * as gone and ends the job.
 */
class Mpi {
  #state: WorldState | undefined;
  #init: Promise<Communicator> | undefined;
  #finalize: Promise<void> | undefined;

  /** MPI_COMM_WORLD. Its calls fail with D4_MPI_NOT_INITIALIZED before init() resolves. */
  readonly COMM_WORLD: Communicator = new Communicator(() => this.#running());

  /** Initialises MPI (MPI_Init_thread, MPI_THREAD_MULTIPLE) once; later calls share it. */
  init(): Promise<Communicator> {
    if (this.#finalize) return Promise.reject(this.#finalizedError('MPI.init()'));
    this.#init ??= this.#start();
    return this.#init;
  }

  async #start(): Promise<Communicator> {
    const native = addon();
    const info = await native.init();
    this.#state = { native, info };
    process.once('beforeExit', () => {
      if (!this.#finalize) void this.finalize();
    });
    return this.COMM_WORLD;
  }

  /** Finalises MPI (MPI_Finalize, which waits for every rank). Nothing to do before init. */
  finalize(): Promise<void> {
    if (this.#finalize) return this.#finalize;
    if (!this.#init) return Promise.resolve();
    const init = this.#init;
    this.#finalize = init.then(
      () => this.#state!.native.finalize(),
      () => undefined, // init failed: there is no MPI to finalise
    );
    return this.#finalize;
  }

  /** True once init() has resolved and until finalize() is called. */
  get initialized(): boolean {
    return this.#state !== undefined && this.#finalize === undefined;
  }

  /** This host's name as MPI knows it (MPI_Get_processor_name). */
  get processorName(): string {
    return this.#running().info.processorName;
  }

  /** The MPI library's version string (MPI_Get_library_version); works before init(). */
  get libraryVersion(): string {
    return addon().libraryVersion();
  }

  #running(): WorldState {
    if (this.#finalize) throw this.#finalizedError('MPI.COMM_WORLD');
    if (!this.#state) throw new MpiError('D4_MPI_NOT_INITIALIZED', 'MPI is not initialized: `await MPI.init()` before using MPI.COMM_WORLD or MPI.processorName');
    return this.#state;
  }

  #finalizedError(what: string): MpiError {
    return new MpiError('D4_MPI_FINALIZED', `${what} after MPI.finalize(): MPI cannot be initialized again in this process; finalize once, at the end`);
  }
}

export const MPI = new Mpi();
export type { Mpi };
