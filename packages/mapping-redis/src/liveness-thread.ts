/**
 * The heartbeat thread of a worker process (a worker_thread, started by liveness.ts). It
 * keeps the process's workers alive in Redis — their heartbeats, their leases, the idle time
 * of the entries they are running — and carries their progress counts, with a connection of
 * its own. So a PE that keeps the main thread busy for a minute (a CPU-bound loop) does not
 * get its worker taken for dead, while a process that really stops (killed, or frozen with
 * SIGSTOP, which freezes this thread too) goes silent and is fenced as before.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { BATCH_BUSY, BATCH_ENDED, NO_ANSWER_MS, type FromThread, type Lease, type MemberKeys, type ThreadData, type ToThread } from './liveness-protocol.js';
import { RespClient } from './resp-client.js';
import { LUA, driverEntryCall } from './scripts.js';

const data = workerData as ThreadData;
const GROUP = data.group;

interface Member {
  consumer: string;
  rank: number;
  keys: MemberKeys;
  aliveMs: number;
  leases: Lease[];
  shared?: string;
  /** Written by the main thread (BATCH_BUSY, BATCH_ENDED), read here at each beat. */
  batch: Int32Array;
  epoch: number;
  timer: NodeJS.Timeout;
  /** Heartbeats sent and not answered yet. */
  inFlight: number;
  stopped: boolean;
}

/** Call counts per job (its driver stream): what the main thread counted, what was sent. */
interface Progress {
  counts: Int32Array;
  sent: number[];
  peIds: string[];
}

const members = new Map<string, Member>();
const progress = new Map<string, Progress>();
// Not ioredis: this thread starts in every worker process, and four script calls do not
// need a client that takes 0.1–0.3 s to load (see resp-client.ts).
const redis = new RespClient(data.redisUrl, new Map(Object.entries(data.shas).map(([name, sha]) => [LUA[name as keyof typeof LUA], sha])));
let answered = Date.now();

function post(message: FromThread): void {
  parentPort!.postMessage(message);
}

/** A script call (the client reconnects by itself when its connection was closed). */
function run<T>(lua: string, keys: readonly string[], args: readonly (string | number | Buffer)[]): Promise<T> {
  return redis.script(lua, keys, args) as Promise<T>;
}

/** The calls counted since the last heartbeat of this job, as JSON ('' for none). */
function takeProgress(driver: string): { json: string; undo: () => void } {
  const p = progress.get(driver);
  if (!p) return { json: '', undo: () => {} };
  const delta: Record<string, number> = {};
  const taken: [number, number][] = [];
  for (let i = 0; i < p.peIds.length; i++) {
    const now = Atomics.load(p.counts, i);
    if (now > p.sent[i]) {
      delta[p.peIds[i]] = (delta[p.peIds[i]] ?? 0) + now - p.sent[i];
      taken.push([i, now - p.sent[i]]);
      p.sent[i] = now;
    }
  }
  if (taken.length === 0) return { json: '', undo: () => {} };
  return { json: JSON.stringify(delta), undo: () => taken.forEach(([i, n]) => (p.sent[i] -= n)) };
}

async function beat(m: Member): Promise<void> {
  if (m.stopped) return;
  const leases = m.leases;
  // For dyn_auto_redis: how long the worker has had nothing to do.
  const idle = Atomics.load(m.batch, BATCH_BUSY) === 1 ? 0 : Math.max(0, Date.now() - m.epoch - Atomics.load(m.batch, BATCH_ENDED));
  const sent = takeProgress(m.keys.driver);
  const keys = [m.keys.meta, m.keys.driverAlive, m.keys.alive, m.keys.driver, ...leases.flatMap((l) => [l.key, l.stream]), ...(m.shared ? [m.shared] : [])];
  const args: (string | number)[] = [m.consumer, m.aliveMs, `${m.rank}:${idle}`, GROUP, leases.length, sent.json];
  let result: number[];
  try {
    result = await run<number[]>(LUA.heartbeat, keys, args);
    answered = Date.now();
  } catch {
    // Not sent: the next heartbeat carries these counts. A server that stays away is
    // reported once it has been silent for NO_ANSWER_MS.
    sent.undo();
    return;
  }
  // Several beats may be in flight: once one has stopped the member, the others say nothing.
  if (m.stopped) return;
  if (result[0] < 0) {
    m.stopped = true;
    clearInterval(m.timer);
    post({ type: 'fatal', consumer: m.consumer, code: result[0] });
  } else if (result.length > 0) {
    // Another worker holds these now: renew them no more, and tell the worker (once: an
    // earlier beat in flight may have found the same ones lost).
    const lost = result.map((position) => leases[position - 1].unit).filter((unit) => m.leases.some((l) => l.unit === unit));
    if (lost.length === 0) return;
    m.leases = m.leases.filter((l) => !lost.includes(l.unit));
    post({ type: 'lost', consumer: m.consumer, units: lost });
  }
}

/**
 * Beats sent and not answered, per member, beyond which a tick sends none: a server that has
 * not answered four does not need a fifth in its queue (NO_ANSWER_MS reports it silent).
 */
const MAX_IN_FLIGHT = 4;

/**
 * A beat goes at every tick, answered or not. Waiting for the last one's reply first (as
 * this thread did) meant that one slow reply cost the next beat a whole period: the alive
 * key then went two periods and the reply's delay without a renewal, and at load ~30 that
 * passed the 500 ms expiry of a test. Replies come back in order on the one connection, so
 * beats in flight cannot overtake each other.
 */
function tick(m: Member): void {
  if (m.stopped || m.inFlight >= MAX_IN_FLIGHT) return;
  m.inFlight++;
  void beat(m).finally(() => m.inFlight--);
}

async function report(keys: MemberKeys, payload: Uint8Array, done: SharedArrayBuffer): Promise<void> {
  const flag = new Int32Array(done);
  try {
    const call = driverEntryCall(keys, GROUP, 'x', Buffer.from(payload));
    await run(LUA.commit, call.keys, call.args);
  } finally {
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
  }
}

async function join(message: Extract<ToThread, { type: 'join' }>): Promise<void> {
  const rank = await run<number>(LUA.register, message.register.keys, message.register.args);
  answered = Date.now();
  if (rank >= 0) {
    const { consumer } = message;
    const m: Member = {
      consumer,
      rank,
      keys: message.keys,
      aliveMs: message.aliveMs,
      leases: message.leases,
      shared: message.shared,
      batch: new Int32Array(message.batch),
      epoch: message.epoch,
      inFlight: 0,
      stopped: false,
      timer: setInterval(() => tick(m), message.everyMs),
    };
    members.set(consumer, m);
    if (message.progress && !progress.has(message.keys.driver)) {
      const { counts, peIds } = message.progress;
      progress.set(message.keys.driver, { counts: new Int32Array(counts), sent: peIds.map(() => 0), peIds });
    }
  }
  post({ type: 'joined', id: message.id, rank });
}

function handle(message: ToThread): void {
  switch (message.type) {
    case 'join':
      void join(message).catch((error: Error) => post({ type: 'failed', id: message.id, message: error.message }));
      return;
    case 'take': {
      const m = members.get(message.consumer);
      if (!m) {
        post({ type: 'taken', id: message.id, result: 0 });
        return;
      }
      void run<number>(LUA.takeLease, [m.keys.meta, message.key], [m.consumer, m.aliveMs])
        .then((result) => {
          // Renewed from the moment it is taken, whatever the main thread does next.
          if (result === 1 && !m.leases.some((l) => l.unit === message.unit)) m.leases = [...m.leases, { unit: message.unit, key: message.key, stream: message.stream }];
          post({ type: 'taken', id: message.id, result });
        })
        .catch((error: Error) => post({ type: 'failed', id: message.id, message: error.message }));
      return;
    }
    case 'flush': {
      const m = members.get(message.consumer);
      // A heartbeat of its own (one may be in flight with fewer counts): the main thread
      // waits for it before it sends its final report, so the driver has every count first.
      const done = () => post({ type: 'flushed', id: message.id });
      if (!m || m.stopped) done();
      else void beat(m).finally(done);
      return;
    }
    case 'leave': {
      const m = members.get(message.consumer);
      if (!m) return;
      m.stopped = true;
      clearInterval(m.timer);
      members.delete(message.consumer);
      return;
    }
    case 'report':
      void report(message.keys, message.payload, message.done).catch(() => {});
      return;
  }
}

parentPort!.on('message', handle);
// Silence from Redis is the main thread's to act on (it fails its workers with D4_REDIS_LOST).
setInterval(() => {
  const silent = Date.now() - answered;
  if (silent > NO_ANSWER_MS && [...members.values()].some((m) => !m.stopped)) post({ type: 'silent', ms: silent });
}, 1000).unref();
redis.connect().then(
  () => post({ type: 'ready' }),
  () => post({ type: 'ready' }),
);
