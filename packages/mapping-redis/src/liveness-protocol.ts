/**
 * Messages between a worker process's threads: its workers (the main thread) and the
 * heartbeat thread (liveness-thread.ts). Types and a constant only, so the thread loads
 * nothing of d4's.
 */

/** A driver or worker whose heartbeat got no answer from Redis for this long gives up. */
export const NO_ANSWER_MS = 15_000;

/** The thread's workerData. */
export interface ThreadData {
  redisUrl: string;
  group: string;
  /** The SHA1 of each script in scripts.ts's LUA, by name (computed by the main thread, which has node:crypto loaded already). */
  shas: Record<string, string>;
}

/** The keys of one worker that its heartbeat touches. */
export interface MemberKeys {
  meta: string;
  driverAlive: string;
  alive: string;
  driver: string;
  counters: string;
}

/** A unit's lease key and stream. */
export interface Lease {
  unit: number;
  key: string;
  stream: string;
}

/** What a worker tells the heartbeat thread when it joins (the 'join' message but its id). */
export interface JoinOptions {
  consumer: string;
  register: { keys: string[]; args: (string | number)[] };
  /** Leases the worker holds from the start (the driver took them for it). */
  leases: Lease[];
  /** The shared stream, when the worker reads it (its pending entries there are refreshed). */
  shared?: string;
  keys: MemberKeys;
  aliveMs: number;
  /** Heartbeat period (ms). */
  everyMs: number;
  /** The process's call counts per PE index for this job (shared memory), when the driver shows progress. */
  progress?: { counts: SharedArrayBuffer; peIds: string[] };
  /**
   * The worker's batch state, written by its main thread and read at each beat (shared
   * memory, not a message: a postMessage per batch start and end woke this thread twice per
   * batch, which cost the main thread 0.2 s of a 100 000-item run): see BATCH_BUSY.
   */
  batch: SharedArrayBuffer;
  /** Date.now() that BATCH_ENDED counts from. */
  epoch: number;
}

/** Int32 slots of JoinOptions.batch: 1 while a batch runs; ms after `epoch` when the last one ended. */
export const BATCH_BUSY = 0;
export const BATCH_ENDED = 1;

export type ToThread =
  /**
   * A worker joins: the thread runs its REGISTER script (keys and args as scripts.ts says)
   * and beats from that moment on, so that nothing between the worker's registration and its
   * first heartbeat depends on the main thread (another worker of the process may keep it
   * busy). It answers `joined` with the rank.
   */
  | ({ type: 'join'; id: number } & JoinOptions)
  /** Take a free lease (TAKE_LEASE) and renew it from then on if it was taken; answers `taken`. */
  | ({ type: 'take'; consumer: string; id: number } & Lease)
  /** Send the progress counted so far, and answer `flushed` once Redis has it. */
  | { type: 'flush'; consumer: string; id: number }
  | { type: 'leave'; consumer: string }
  /**
   * The process is ending under a PE (it called process.exit): put `payload` (an encoded
   * error report) on the driver's stream, then set `done[0]` to 1 and notify: the main thread
   * waits on it with Atomics.wait, since it cannot run its event loop any more.
   */
  | { type: 'report'; keys: MemberKeys; payload: Uint8Array; done: SharedArrayBuffer };

export type FromThread =
  | { type: 'ready' }
  /** The rank, or -1 when the job is over. */
  | { type: 'joined'; id: number; rank: number }
  /** 1 taken, 0 held by another, -1 the job is over. */
  | { type: 'taken'; id: number; result: number }
  /** -1: the job is over; -2: its driver is gone; -3: the worker was taken for dead. */
  | { type: 'fatal'; consumer: string; code: number }
  | { type: 'lost'; consumer: string; units: number[] }
  | { type: 'flushed'; id: number }
  /** A request failed in Redis (the message of the error). */
  | { type: 'failed'; id: number; message: string }
  /** Redis has not answered any heartbeat for this long (ms). */
  | { type: 'silent'; ms: number };
