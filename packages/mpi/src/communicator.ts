import { checkBytes, checkLength, checkRank, checkTag } from './checks.js';
import { Collectives } from './collectives.js';
import { MpiError } from './errors.js';
import type { NativeAddon, RawMessage, ReduceOp, WorldInfo } from './native.js';
import { packMessages, unpack } from './pack.js';
import type { Reducible } from './reduction.js';
import { fairly } from './fair-turns.js';

/** What `recv()` resolves to. */
export interface Received<T = unknown> {
  value: T;
  source: number;
  tag: number;
}

/** What `recvBytes()` resolves to: the bytes as MPI wrote them, in a Buffer that owns them. */
export type ReceivedBytes = RawMessage;

export interface RecvOptions {
  /** The rank to receive from; any rank when omitted. */
  source?: number;
  /** The tag to match; any tag when omitted. */
  tag?: number;
}

const DONE: Promise<void> = Promise.resolve();

function received<T>(message: RawMessage): Received<T> {
  return { value: unpack(message.data) as T, source: message.source, tag: message.tag };
}

/** The connection to the world's addon and what init() learnt; undefined before init. */
export interface WorldState {
  native: NativeAddon;
  info: WorldInfo;
}

/**
 * MPI_COMM_WORLD. Every call that can wait returns a promise and holds the event loop for
 * at most 100 us of waiting (a reply that comes within it is taken without any thread hop);
 * longer waits are the addon's progress thread's, never libuv's thread pool's.
 */
export class Communicator {
  readonly #world: () => WorldState;
  readonly #collectives: Collectives;

  constructor(world: () => WorldState) {
    this.#world = world;
    this.#collectives = new Collectives(world);
  }

  /** This process's rank, 0 to size - 1. */
  get rank(): number {
    return this.#world().info.rank;
  }

  /** How many ranks the world has (1 for a process started without mpiexec). */
  get size(): number {
    return this.#world().info.size;
  }

  /** Sends `value` through d4's codec (typed arrays and Buffers as raw bytes) to `dest`. */
  send(value: unknown, dest: number, tag = 0): Promise<void> {
    try {
      const { native, info } = this.#world();
      const call = 'COMM_WORLD.send(value, dest, tag)';
      checkRank(call, 'dest', dest, info);
      checkTag(call, tag, info);
      const messages = packMessages(value);
      const last = messages[messages.length - 1];
      checkLength(call, last.byteLength);
      if (messages.length === 1) return native.send(last, dest, tag) ?? DONE;
      const head = native.send(messages[0], dest, tag);
      const payload = native.send(last, dest, tag) ?? DONE;
      return head ? Promise.all([head, payload]).then(() => undefined) : payload;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Receives one value sent with send(), from `source` (or any) with `tag` (or any). */
  recv<T = unknown>(options: RecvOptions = {}): Promise<Received<T>> {
    try {
      const message = this.#recvRaw('COMM_WORLD.recv({ source, tag })', options, true);
      if (message instanceof Promise) return fairly(message.then(received<T>));
      return fairly(Promise.resolve(received<T>(message)));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Sends bytes as they are, no codec and no copy (the fast path for frames that are
   * already bytes). A receiver takes them with recvBytes(); recv() would misread them.
   */
  sendBytes(bytes: ArrayBufferView, dest: number, tag = 0): Promise<void> {
    try {
      const { native, info } = this.#world();
      const call = 'COMM_WORLD.sendBytes(bytes, dest, tag)';
      checkBytes(call, bytes);
      checkRank(call, 'dest', dest, info);
      checkTag(call, tag, info);
      checkLength(call, bytes.byteLength);
      return native.send(bytes, dest, tag) ?? DONE;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Receives one message's bytes as they are (any source and any tag by default). */
  recvBytes(options: RecvOptions = {}): Promise<ReceivedBytes> {
    try {
      const message = this.#recvRaw('COMM_WORLD.recvBytes({ source, tag })', options, false);
      return fairly(message instanceof Promise ? message : Promise.resolve(message));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * The message itself when the addon received it at once (no promise was made for it),
   * else its promise. Throws what the checks or MPI throw.
   */
  #recvRaw(call: string, options: RecvOptions, values: boolean): RawMessage | Promise<RawMessage> {
    const { native, info } = this.#world();
    const source = options.source === undefined ? native.anySource : checkRank(call, 'source', options.source, info);
    const tag = options.tag === undefined ? native.anyTag : checkTag(call, options.tag, info);
    const got = native.recv(source, tag, values);
    if (got instanceof Promise) return got;
    return { data: got, source: native.status[0], tag: native.status[1] };
  }

  /** The root's value, on every rank (the other ranks pass undefined, or anything: it is ignored). */
  bcast<T>(value: T | undefined, root: number): Promise<T> {
    return this.#collectives.bcast(value, root);
  }

  /** Every rank's value, in rank order, at the root; undefined on the other ranks. */
  gather<T>(value: T, root: number): Promise<T[] | undefined> {
    return this.#collectives.gather(value, root);
  }

  /** Every rank's value, in rank order, on every rank. */
  allgather<T>(value: T): Promise<T[]> {
    return this.#collectives.allgather(value);
  }

  /** Combines a number, bigint or typed array elementwise over the ranks, at the root. */
  reduce<T extends Reducible>(value: T, op: ReduceOp, root: number): Promise<T | undefined> {
    return this.#collectives.reduce(value, op, root);
  }

  /** Combines a number, bigint or typed array elementwise over the ranks, on every rank. */
  allreduce<T extends Reducible>(value: T, op: ReduceOp): Promise<T> {
    return this.#collectives.allreduce(value, op);
  }

  /** Resolves once every rank has called barrier(). */
  barrier(): Promise<void> {
    return this.#collectives.barrier();
  }

  /** Ends every rank of the job (MPI_Abort) with exit code `code`. */
  abort(code = 1): never {
    const { native } = this.#world();
    if (!Number.isInteger(code)) throw new MpiError('D4_MPI_ARGUMENT', `COMM_WORLD.abort(code): code ${String(code)} is not a whole number`);
    return native.abort(code);
  }
}
