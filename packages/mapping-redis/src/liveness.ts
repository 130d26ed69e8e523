import { SHARE_ENV, Worker as Thread } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { BATCH_BUSY, BATCH_ENDED, type FromThread, type JoinOptions, type Lease, type MemberKeys, type ThreadData, type ToThread } from './liveness-protocol.js';

export type { JoinOptions };
/** What a worker gives when it joins; the shared batch state is made here. */
export type MemberOptions = Omit<JoinOptions, 'batch' | 'epoch'>;
import { GROUP } from './keys.js';
import { createHash } from 'node:crypto';
import { LUA } from './scripts.js';

/**
 * The main thread's side of a worker process's heartbeat thread (liveness-thread.ts): one
 * thread per process and server, shared by the process's workers, each of which joins it as
 * a member. The thread registers the worker, takes its leases, and from then on beats on its
 * own, whatever the PEs do to the main thread; the main thread tells it what changes (when a
 * batch runs; progress counts in shared memory).
 */
export interface MemberEvents {
  /** The thread's heartbeat was refused: -1 job over, -2 driver gone, -3 taken for dead; -4 the thread failed. */
  fatal(code: number): void;
  /** Units whose lease another worker holds now. */
  lost(units: number[]): void;
  /** Redis has answered no heartbeat for `ms`. */
  silent(ms: number): void;
}

export interface Member {
  /** The worker's rank (-1: the job is over). */
  readonly rank: number;
  /** Takes a free lease: 1 taken (and renewed from then on), 0 held by another, -1 job over. */
  takeLease(lease: Lease): Promise<number>;
  /** A batch starts (true) or ends: two stores in shared memory, which the thread reads when it beats. */
  batch(busy: boolean): void;
  /** Resolves once every call counted so far is on the driver's stream. */
  flush(): Promise<void>;
  leave(): void;
}

const threads = new Map<string, Liveness>();

export class Liveness {
  private readonly thread: Thread;
  private readonly members = new Map<string, MemberEvents>();
  private readonly requests = new Map<number, { resolve: (value: number) => void; reject: (error: Error) => void }>();
  private nextId = 0;
  private users = 0;
  /** Resolves when the thread has its connection (or has tried). */
  readonly ready: Promise<void>;
  private failure: Error | undefined;

  /** The process's thread for this server, started on first use. */
  static acquire(redisUrl: string): Liveness {
    let live = threads.get(redisUrl);
    if (!live) threads.set(redisUrl, (live = new Liveness(redisUrl)));
    live.users++;
    return live;
  }

  private constructor(private readonly redisUrl: string) {
    this.thread = new Thread(threadEntry(), {
      workerData: { redisUrl, group: GROUP, shas: scriptShas() } satisfies ThreadData,
      // What a thread copies by default and this one never reads: the environment (a copy
      // per thread), and the process's Node flags (a loader or --inspect would boot again here).
      env: SHARE_ENV,
      execArgv: [],
    });
    // Never the reason a process stays alive: its workers' connections are.
    this.thread.unref();
    this.ready = new Promise<void>((resolve, reject) => {
      this.thread.once('message', () => resolve());
      this.thread.once('error', reject);
    });
    this.ready.catch(() => {});
    this.thread.on('message', (message: FromThread) => this.onMessage(message));
    this.thread.on('error', (error) => {
      // Without its heartbeats a worker would soon be taken for dead: it stops now instead.
      this.failure = error;
      for (const events of this.members.values()) events.fatal(-4);
      for (const request of this.requests.values()) request.reject(error);
      this.requests.clear();
    });
  }

  /** Why the thread failed, if it did (code -4 in `fatal`). */
  get error(): Error | undefined {
    return this.failure;
  }

  /** Registers a worker (through the thread, which beats for it from then on). */
  async join(options: MemberOptions, events: MemberEvents): Promise<Member> {
    const { consumer } = options;
    this.members.set(consumer, events);
    const shared = new SharedArrayBuffer(8);
    const state = new Int32Array(shared);
    const epoch = Date.now();
    const rank = await this.request((id) => ({ type: 'join', id, ...options, batch: shared, epoch }));
    if (rank < 0) this.members.delete(consumer);
    return {
      rank,
      takeLease: (lease) => this.request((id) => ({ type: 'take', id, consumer, ...lease })),
      batch: (busy) => {
        if (!busy) Atomics.store(state, BATCH_ENDED, Date.now() - epoch);
        Atomics.store(state, BATCH_BUSY, busy ? 1 : 0);
      },
      flush: () => this.request((id) => ({ type: 'flush', id, consumer })).then(() => undefined),
      leave: () => {
        this.members.delete(consumer);
        this.send({ type: 'leave', consumer });
      },
    };
  }

  /**
   * Puts an encoded error report on the driver's stream from a main thread that cannot wait
   * for a promise any more (a PE called process.exit): blocks until Redis has it, at most
   * `ms`. Returns whether it got there in time.
   */
  reportSync(keys: MemberKeys, payload: Uint8Array, ms: number): boolean {
    if (this.failure) return false;
    const done = new SharedArrayBuffer(4);
    this.send({ type: 'report', keys, payload, done });
    return Atomics.wait(new Int32Array(done), 0, 0, ms) !== 'timed-out';
  }

  release(): void {
    if (--this.users > 0) return;
    threads.delete(this.redisUrl);
    void this.thread.terminate();
  }

  private request(make: (id: number) => ToThread): Promise<number> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<number>((resolve, reject) => {
      this.requests.set(id, { resolve, reject });
      this.send(make(id));
    });
  }

  private answer(id: number, value: number | Error): void {
    const request = this.requests.get(id);
    if (!request) return;
    this.requests.delete(id);
    if (value instanceof Error) request.reject(value);
    else request.resolve(value);
  }

  private send(message: ToThread): void {
    this.thread.postMessage(message);
  }

  private onMessage(message: FromThread): void {
    switch (message.type) {
      case 'joined':
        return this.answer(message.id, message.rank);
      case 'taken':
        return this.answer(message.id, message.result);
      case 'flushed':
        return this.answer(message.id, 0);
      case 'failed':
        return this.answer(message.id, new Error(message.message));
      case 'fatal':
        this.members.get(message.consumer)?.fatal(message.code);
        return;
      case 'lost':
        this.members.get(message.consumer)?.lost(message.units);
        return;
      case 'silent':
        for (const events of this.members.values()) events.silent(message.ms);
        return;
      default:
        return;
    }
  }
}

/** The SHA1 of each script, by name: computed here, where node:crypto is loaded anyway, so that the thread needs none. */
function scriptShas(): Record<string, string> {
  return Object.fromEntries(Object.entries(LUA).map(([name, lua]) => [name, createHash('sha1').update(lua).digest('hex')]));
}

/**
 * The thread's code as one CommonJS file (scripts/bundle-thread.mjs: no ESM loader, no module
 * resolution at its boot), next to this file (or in dist/ when this file runs from src under tests).
 */
function threadEntry(): string {
  const here = import.meta.url;
  return fileURLToPath(new URL(here.endsWith('.ts') ? '../dist/liveness-thread.cjs' : './liveness-thread.cjs', here));
}
