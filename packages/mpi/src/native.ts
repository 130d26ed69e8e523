// The addon's surface (native/*.cc). Arguments are checked in communicator.ts before they
// get here; these are the plumbing's types, not the API.

export interface WorldInfo {
  rank: number;
  size: number;
  provided: number;
  tagUpperBound: number;
  processorName: string;
}

export interface RawMessage {
  /** The bytes MPI wrote, owned by this Buffer (no copy). */
  data: Buffer;
  source: number;
  tag: number;
}

type Bytes = ArrayBufferView;

export interface NativeAddon {
  configure(makeError: (code: string, message: string, mpiErrorClass: number) => Error): void;
  libraryVersion(): string;
  init(): Promise<WorldInfo>;
  finalize(): Promise<void>;
  abort(code: number): never;
  /** undefined when the send completed at once. */
  send(bytes: Bytes, dest: number, tag: number): Promise<void> | undefined;
  /**
   * `values`: the message may be a header whose payload follows (pack.ts). A Buffer when
   * the message was received at once (its source and tag are then in `status`), else a
   * promise of it.
   */
  recv(source: number, tag: number, values: boolean): Buffer | Promise<RawMessage>;
  /** [source, tag] of the message the last recv() returned as a Buffer. */
  readonly status: Int32Array;
  bcast(buffer: Bytes, root: number): Promise<void>;
  gather(send: Bytes, recv: Bytes | null, root: number): Promise<void>;
  gatherv(send: Bytes, recv: Bytes | null, counts: Int32Array | null, displacements: Int32Array | null, root: number): Promise<void>;
  allgather(send: Bytes, recv: Bytes): Promise<void>;
  allgatherv(send: Bytes, recv: Bytes, counts: Int32Array, displacements: Int32Array): Promise<void>;
  reduce(send: Bytes, recv: Bytes | null, datatype: number, op: number, root: number): Promise<void>;
  allreduce(send: Bytes, recv: Bytes, datatype: number, op: number): Promise<void>;
  barrier(): Promise<void>;
  /**
   * With D4_MPI_TRACE=1: 6 numbers a settled receive (posted, matched, queued, drained,
   * settled in ns of CLOCK_MONOTONIC; 1 when the progress thread received it), then empties.
   */
  trace(): Float64Array;
  /** How receives and sends ended, and the threads' yields, since the addon loaded (native/counters.h). */
  counters(): Record<string, number>;
  readonly anySource: number;
  readonly anyTag: number;
}

/** Reduction operations, indexed as in native/collectives.cc. */
export const OPS = { sum: 0, min: 1, max: 2, prod: 3 } as const;
export type ReduceOp = keyof typeof OPS;

