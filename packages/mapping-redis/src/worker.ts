import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { D4Error, WorkerError, decode, encode, peExitError, rebuildWorkflow, type PECall, type GenericPE, type LogFn, type PEStats, type WorkflowGraph } from '@d4/core';
import { LocalEngine, abortError, checkSameGraph, mergeStats, unconnectedPorts } from '@d4/runtime';
import { connectRedis, isConnectionError, lostError } from './connect.js';
import { Liveness, type Member } from './liveness.js';
import { GROUP, jobKeys, type JobKeys } from './keys.js';
import { readMeta, type JobMeta } from './meta.js';
import { Outbox, SHARED_KEY, presumedDead, slotKey, type AckGroup } from './outbox.js';
import type { Plan } from './plan.js';
import type { TakeoverReport } from './notices.js';
import type { WorkerConfig, WorkerReport } from './worker-config.js';
import { ReportedError, errorReport, jobGone, reportError } from './worker-errors.js';
import { defineScripts, type Scripts } from './scripts.js';
import type { Tuning } from './options.js';

export type { LocalProcessConfig, WorkerConfig, WorkerConsumer, WorkerFailure, WorkerReport } from './worker-config.js';
export { ReportedError } from './worker-errors.js';

interface Instance {
  readonly pe: GenericPE;
  readonly peIndex: number;
  readonly engine: LocalEngine;
  readonly slot?: number;
  closed: boolean;
}

interface DataEntry {
  keyIndex: number;
  key: string;
  id: string;
  fields: Buffer[] | null;
}

type StreamReply = [Buffer, [Buffer, Buffer[] | null][]][] | null;

/**
 * A worker of a job: reads its control stream, the slots it holds and (when active) the
 * shared group, runs PE instances, and commits each batch atomically. It ends when the
 * driver says stop, and fails when the job is gone or a PE throws.
 */
export async function runWorker(config: WorkerConfig): Promise<WorkerReport> {
  // The heartbeat thread boots (Node, ioredis) while this thread connects and loads the module.
  const live = Liveness.acquire(config.redisUrl);
  let redis: Redis | undefined;
  let worker: Worker | undefined;
  try {
    redis = await connectRedis(config.redisUrl, 'worker');
    const keys = jobKeys(config.job);
    const until = Date.now() + (config.waitMs ?? 0);
    while (Date.now() < until && !(await redis.exists(keys.meta))) {
      if (config.signal?.aborted) throw abortError(config.signal);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const meta = await readMeta(redis, keys, config.redisUrl);
    if (config.mapping && config.mapping !== meta.mapping) {
      throw new D4Error('D4_REDIS_WRONG_MAPPING', `job ${config.job} runs mapping '${meta.mapping}', not '${config.mapping}'; join it with: d4 worker ${meta.mapping} --job ${config.job}`);
    }
    let graph: WorkflowGraph;
    try {
      graph = (await rebuildWorkflow(config.localSource ?? meta.source)).flatten().validate();
      checkSameGraph(graph, meta.plan.pes.map((p) => p.id), meta.source.module);
    } catch (error) {
      // A local worker cannot load what the driver loaded: the run cannot go on. A joiner
      // on another host with a different checkout fails alone.
      if (config.rank !== undefined) await reportError(redis, keys, config.consumer ?? '?', error);
      throw error;
    }
    await live.ready;
    worker = new Worker(config, redis, keys, meta, graph, live);
    return await worker.run();
  } catch (error) {
    // A connection that fails mid-job is said in d4's words, not ioredis'.
    if (redis && isConnectionError(error) && !(error instanceof ReportedError)) throw lostError(config.redisUrl, config.job, `worker ${worker?.consumer ?? config.consumer ?? ''}`.trim(), [redis], error);
    throw error;
  } finally {
    redis?.disconnect();
    live.release();
  }
}

/**
 * PE objects in use by an instance in this process. Workers in one process may load a module
 * that exports one graph object: the second instance of a PE gets its own object.
 */
const usedPEs = new Set<GenericPE>();

class Worker {
  /** The workers of this process, and the one whose batch is running. */
  static readonly all = new Set<Worker>();
  static running: Worker | undefined;
  private readonly scripts: Scripts;
  private readonly plan: Plan;
  private readonly tuning: Tuning;
  private readonly outbox: Outbox;
  readonly consumer: string;
  private readonly unconnected: Set<string>;
  private rank = -1;
  private active = true;
  private readonly slots = new Map<number, Instance>();
  private readonly shared = new Map<number, Instance>();
  private readonly retired: Instance[] = [];
  private stopping = false;
  private failure: unknown;
  private failed!: (error: unknown) => void;
  private readonly failedPromise: Promise<never>;
  private member?: Member;
  /** Calls per PE index, counted here and sent by the heartbeat thread (when the driver shows progress). */
  private readonly calls?: Int32Array;
  private nextMaintenance = 0;
  private readonly report: WorkerReport;

  constructor(
    private readonly config: WorkerConfig,
    private readonly redis: Redis,
    private readonly keys: JobKeys,
    private readonly meta: JobMeta,
    private readonly graph: WorkflowGraph,
    private readonly live: Liveness,
  ) {
    this.scripts = defineScripts(redis);
    if (meta.progress) this.calls = progressCounts(keys.job, meta.plan.pes.length);
    this.plan = meta.plan;
    this.tuning = meta.tuning;
    this.consumer = config.consumer ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
    this.outbox = new Outbox(graph, this.plan, keys, this.scripts, this.tuning.batchSize, keys.alive(this.consumer));
    this.unconnected = unconnectedPorts(graph.pes(), graph.peEdges());
    this.report = { consumer: this.consumer, rank: -1, host: hostname(), pid: process.pid, items: 0, entries: 0, redelivered: 0, duplicates: 0, pes: {}, startupMs: 0, cpuMs: 0 };
    this.failedPromise = new Promise<never>((_, reject) => {
      this.failed = reject;
    });
    this.failedPromise.catch(() => {});
  }

  async run(): Promise<WorkerReport> {
    Worker.all.add(this);
    const rank = await this.joinLiveness();
    if (rank < 0) throw jobGone(this.config.job);
    this.rank = this.report.rank = rank;
    this.report.startupMs = Math.round(performance.now());
    if (this.meta.mapping === 'dyn_auto_redis') {
      // Ranks at or above the driver's active count wait until the driver grows the pool.
      const active = await this.redis.hget(this.keys.counters, 'active');
      this.active = active === null || rank < Number(active);
    }
    if (this.config.verbose) process.stderr.write(`d4 worker ${this.consumer}: joined job ${this.config.job} (${this.meta.mapping}) as rank ${rank}\n`);
    const signal = this.config.signal;
    const abort = () => this.fail(abortError(signal!));
    if (signal?.aborted) abort();
    signal?.addEventListener('abort', abort);
    try {
      return await Promise.race([this.loop(), this.failedPromise]);
    } finally {
      Worker.all.delete(this);
      this.member?.leave();
      signal?.removeEventListener('abort', abort);
    }
  }

  private async loop(): Promise<WorkerReport> {
    try {
      for (const slot of this.config.slots ?? []) await this.holdSlot(slot, false);
      await this.commit([]);
      while (!this.stopping) {
        const streams = this.readStreams();
        let reply: StreamReply;
        try {
          const read = this.redis.callBuffer(
            'XREADGROUP', 'GROUP', GROUP, this.consumer, 'COUNT', this.tuning.readCount, 'BLOCK', Math.min(1000, Math.max(50, this.tuning.claimIdleMs >> 1)),
            'STREAMS', ...streams, ...streams.map(() => '>'),
          ) as Promise<StreamReply>;
          read.catch(() => {});
          await this.settle();
          reply = await read;
        } catch (error) {
          // The job's keys were deleted under a blocked read: the job is over.
          if (/NOGROUP|UNBLOCKED/.test((error as Error).message)) throw jobGone(this.config.job);
          throw error;
        }
        if (this.failure) throw this.failure;
        if (reply) await this.handle(reply, streams);
        if (Date.now() >= this.nextMaintenance && !this.stopping) await this.maintain();
      }
      await this.settle();
      if (this.failure) throw this.failure;
      mergeStats(this.report.pes, this.peStats());
      // Every call counted is on the driver's stream before this worker's report.
      await this.member?.flush();
      const cpu = process.cpuUsage();
      this.report.cpuMs = Math.round((cpu.user + cpu.system) / 1000);
      await this.commit([], [['s', encode(this.report)]]);
      return this.report;
    } catch (error) {
      // The job is over or stopping: nothing to tell. Anything else fails the run at once
      // (a Redis error reply too: a worker that cannot commit cannot go on).
      const quiet = ['D4_REDIS_JOB_GONE', 'D4_REDIS_JOB_ABORTED', 'D4_REDIS_DRIVER_GONE', 'D4_ABORTED', 'D4_REDIS_LOST', 'D4_REDIS_PRESUMED_DEAD'];
      if (error instanceof D4Error && quiet.includes(error.code)) throw error;
      // The connection is gone: there is no one to tell through it.
      if (isConnectionError(error)) throw error;
      const reported = await reportError(this.redis, this.keys, this.consumer, error).then(() => true, () => false);
      if (reported) throw new ReportedError(error);
      throw error;
    }
  }

  private readStreams(): string[] {
    const streams = [this.keys.control(this.consumer)];
    for (const slot of this.slots.keys()) streams.push(this.keys.slot(slot));
    if (this.active && this.plan.pes.some((p) => p.mode === 'shared')) streams.push(this.keys.shared);
    return streams;
  }

  private async handle(reply: NonNullable<StreamReply>, streams: string[]): Promise<void> {
    const data: DataEntry[] = [];
    const closes: number[] = [];
    for (const [keyBuf, entries] of reply) {
      const key = keyBuf.toString();
      if (key === streams[0]) {
        for (const [, fields] of entries) if (fields) this.control(fields, closes);
        continue;
      }
      const keyIndex = key === this.keys.shared ? SHARED_KEY : slotKey(Number(key.slice(this.keys.prefix.length + 1)));
      for (const [id, fields] of entries) data.push({ keyIndex, key, id: id.toString(), fields });
    }
    if (data.length) await this.process(data, false);
    for (const pe of closes) await this.close(pe);
  }

  private control(fields: Buffer[], closes: number[]): void {
    for (let i = 0; i < fields.length; i += 2) {
      const name = fields[i].toString();
      const value = fields[i + 1].toString();
      if (name === 'close') closes.push(Number(value));
      else if (name === 'stop') this.stopping = true;
      else if (name === 'active' && this.meta.mapping === 'dyn_auto_redis') this.active = this.rank < Number(value);
      else if (name === 'abort') {
        this.failure = new WorkerError(`job ${this.config.job} was stopped by its driver: ${value}`, 'D4_REDIS_JOB_ABORTED');
        this.stopping = true;
      }
    }
  }

  /** Runs a batch of entries and commits it; entries of a slot this worker lost are left alone. */
  private async process(entries: DataEntry[], redelivered: boolean): Promise<void> {
    const acks = new Map<string, AckGroup>();
    const sizes = new Map<AckGroup, number[]>();
    this.member?.batch(true);
    const calls = this.calls;
    Worker.running = this;
    try {
      for (const entry of entries) {
        const fields = entry.fields;
        if (!fields) {
          // Deleted while pending (its job is ending): nothing to run, only acknowledge.
          continue;
        }
        let target = '';
        let payload: Buffer | undefined;
        for (let i = 0; i < fields.length; i += 2) {
          const name = fields[i].toString();
          if (name === 't') target = fields[i + 1].toString();
          else if (name === 'd') payload = fields[i + 1];
        }
        const colon = target.indexOf(':');
        const peIndex = Number(target.slice(0, colon));
        const port = target.slice(colon + 1);
        const instance = entry.keyIndex === SHARED_KEY ? await this.sharedInstance(peIndex) : this.slots.get(entry.keyIndex - slotKey(0));
        if (!instance) continue;
        const values = decode<unknown[]>(payload!);
        const engine = instance.engine;
        const pe = instance.pe;
        for (let v = 0; v < values.length; v++) {
          const pending = engine.feed(pe, port === 'input' ? { input: values[v] } : { [port]: values[v] });
          if (calls) Atomics.add(calls, peIndex, 1);
          if (pending !== undefined) await pending;
        }
        this.report.items += values.length;
        this.report.entries++;
        if (redelivered) this.report.redelivered += values.length;
        const groupKey = `${entry.keyIndex}|${peIndex}`;
        let group = acks.get(groupKey);
        if (!group) {
          acks.set(groupKey, (group = { keyIndex: entry.keyIndex, pe: peIndex, ids: [] }));
          sizes.set(group, []);
        }
        group.ids.push(entry.id);
        sizes.get(group)!.push(values.length);
      }
      const groups = [...acks.values()];
      // Not awaited here: the next read goes out right behind the commit on the same
      // connection (Redis runs them in order), saving a round trip per batch. The loop
      // settles the commit before it handles what the read brings.
      this.pendingCommit = this.commit(groups, [], groups.flatMap((g) => sizes.get(g)!));
      this.pendingCommit.catch(() => {});
    } finally {
      this.member?.batch(false);
      if (Worker.running === this) Worker.running = undefined;
    }
  }

  private pendingCommit: Promise<void> | undefined;

  /** Waits for the batch commit in flight, if any (its failure is the worker's failure). */
  private async settle(): Promise<void> {
    const pending = this.pendingCommit;
    this.pendingCommit = undefined;
    if (pending) await pending;
  }

  /** `sizes` are the item counts of the acknowledged entries, in ack order. */
  private async commit(acks: AckGroup[], fields: [string, string | Buffer][] = [], sizes: number[] = []): Promise<void> {
    // Commits go one after the other; the outbox is empty again as soon as this one started.
    if (this.pendingCommit) await this.settle();
    const result = await this.outbox.commit(acks, fields);
    if (!result) throw jobGone(this.config.job);
    // Entries another worker took over and finished first: what this batch wrote for them
    // is a second copy. Counted in items, as the run's stats report them.
    for (const position of result.duplicates) this.report.duplicates += sizes[position - 1] ?? 0;
  }

  private async sharedInstance(peIndex: number): Promise<Instance> {
    let instance = this.shared.get(peIndex);
    if (!instance) {
      instance = await this.createInstance(peIndex, undefined);
      this.shared.set(peIndex, instance);
    }
    return instance;
  }

  private async createInstance(peIndex: number, slot: number | undefined): Promise<Instance> {
    const pe = await this.freshPE(peIndex);
    const planned = this.plan.pes[peIndex];
    pe.instance = slot === undefined ? this.rank : this.plan.slots[slot].instance;
    pe.numInstances = slot === undefined ? Math.max(this.plan.numProcesses, this.rank + 1) : planned.slots.length;
    const engine = new LocalEngine({
      pes: [pe],
      localEdges: [],
      externalPorts: this.outbox.externalPorts(peIndex),
      external: this.outbox.writerFor(peIndex, pe.instance),
      unconnectedPorts: this.unconnected,
      collector: this.outbox.results,
      log: this.logFn,
    });
    await engine.preprocess();
    return { pe, peIndex, engine, slot, closed: false };
  }

  /** A PE object no other instance in this process uses (state must not be shared). */
  private async freshPE(peIndex: number): Promise<GenericPE> {
    let pe = this.graph.pes()[peIndex];
    if (usedPEs.has(pe)) {
      const rebuilt = (await rebuildWorkflow(this.config.localSource ?? this.meta.source)).flatten().pes()[peIndex];
      pe = usedPEs.has(rebuilt) ? clonePE(rebuilt) : rebuilt;
    }
    usedPEs.add(pe);
    return pe;
  }

  private readonly logFn: LogFn = (peId, instance, message) => {
    this.outbox.logs.push([peId, instance, message]);
    this.config.log?.(peId, instance, message);
  };

  /** Runs postprocess() of this worker's instances of a PE and tells the driver. */
  private async close(peIndex: number): Promise<void> {
    const instances = [...this.slots.values(), ...this.shared.values()].filter((i) => i.peIndex === peIndex && !i.closed);
    for (const instance of instances) {
      await instance.engine.postprocessOne(instance.pe);
      instance.closed = true;
    }
    await this.commit([], [['c', `${this.consumer}|${peIndex}`]]);
  }

  /** Takes a slot: its lease, a fresh instance, and whatever its last holder left pending. */
  private async holdSlot(slot: number, takeover: boolean): Promise<void> {
    const instance = await this.createInstance(this.plan.slots[slot].pe, slot);
    this.slots.set(slot, instance);
    if (!takeover) return;
    if (this.config.verbose) process.stderr.write(`d4 worker ${this.consumer}: took over slot ${slot} (${this.plan.pes[instance.peIndex].id} instance ${instance.pe.instance})\n`);
    await this.claim(this.keys.slot(slot), slotKey(slot), 0, slot);
  }

  /**
   * Claims entries idle for `minIdle` ms and runs them, then tells the driver whose they were
   * (XPENDING first: XAUTOCLAIM does not say, and when nothing is idle it is the only call).
   */
  private async claim(key: string, keyIndex: number, minIdle: number, slot?: number): Promise<void> {
    let cursor = '0-0';
    const report: TakeoverReport = { by: this.consumer, from: {}, slot };
    do {
      const idle = (await this.redis.xpending(key, GROUP, 'IDLE', minIdle, cursor, '+', this.tuning.readCount * 10)) as [string, string, number, number][];
      if (idle.length === 0) break;
      const owners = new Map(idle.map(([id, owner]) => [id, owner]));
      const reply = (await this.redis.callBuffer('XAUTOCLAIM', key, GROUP, this.consumer, minIdle, cursor, 'COUNT', this.tuning.readCount)) as [Buffer, [Buffer, Buffer[] | null][], Buffer[]?];
      cursor = reply[0].toString();
      const entries = reply[1].map(([id, fields]) => ({ keyIndex, key, id: id.toString(), fields }));
      // Entries deleted while pending were acknowledged already: nothing to redo.
      const live = entries.filter((e) => e.fields);
      for (const entry of live) {
        const owner = owners.get(entry.id) ?? 'another worker';
        if (owner === this.consumer) continue;
        const taken = (report.from[owner] ??= { entries: 0, items: 0 });
        taken.entries++;
        taken.items += itemCount(entry.fields!);
      }
      if (live.length) await this.process(live, true);
    } while (cursor !== '0-0' && !this.stopping);
    if (Object.keys(report.from).length > 0) await this.commit([], [['k', JSON.stringify(report)]]);
  }

  /** Periodic duties: claim what dead workers left, take over slots nobody holds. */
  private async maintain(): Promise<void> {
    this.nextMaintenance = Date.now() + Math.max(50, this.tuning.claimIdleMs >> 1);
    if (this.active && this.plan.pes.some((p) => p.mode === 'shared')) {
      try {
        await this.claim(this.keys.shared, SHARED_KEY, this.tuning.claimIdleMs);
      } catch (error) {
        if (/NOGROUP|UNBLOCKED|no such key/i.test((error as Error).message)) throw jobGone(this.config.job);
        throw error;
      }
    }
    if (this.plan.slots.length === 0) return;
    const leases = await this.redis.mget(...this.plan.slots.map((_, s) => this.keys.lease(s)));
    for (let s = 0; s < leases.length; s++) {
      if (leases[s] !== null || this.slots.has(s)) continue;
      const taken = await this.member!.takeLease({ slot: s, key: this.keys.lease(s), stream: this.keys.slot(s) });
      if (taken < 0) throw jobGone(this.config.job);
      if (taken === 1) {
        await this.holdSlot(s, true);
        break;
      }
    }
  }

  /**
   * Registers through the heartbeat thread, which from then on renews the heartbeat, the
   * leases and the idle time of running entries. Returns the rank (-1: the job is over).
   */
  private async joinLiveness(): Promise<number> {
    const every = Math.max(50, Math.min(Math.floor(this.tuning.aliveMs / 3), this.meta.mapping === 'dyn_auto_redis' ? Math.floor(this.tuning.idleThreshold / 4) : Infinity, this.calls ? PROGRESS_MS : Infinity));
    const keys = this.keys;
    this.member = await this.live.join(
      {
        consumer: this.consumer,
        register: {
          keys: [keys.meta, keys.workers, keys.control(this.consumer), keys.alive(this.consumer), keys.rank],
          args: [this.consumer, GROUP, this.tuning.aliveMs, this.config.rank ?? ''],
        },
        leases: (this.config.slots ?? []).map((slot) => ({ slot, key: keys.lease(slot), stream: keys.slot(slot) })),
        shared: this.plan.pes.some((p) => p.mode === 'shared') ? keys.shared : undefined,
        keys: { meta: keys.meta, driverAlive: keys.driverAlive, alive: keys.alive(this.consumer), driver: keys.driver, counters: keys.counters },
        aliveMs: this.tuning.aliveMs,
        everyMs: every,
        progress: this.calls ? { counts: this.calls.buffer as SharedArrayBuffer, peIds: this.plan.pes.map((p) => p.id) } : undefined,
      },
      {
        fatal: (code) => {
          if (code === -1) this.fail(jobGone(this.config.job));
          else if (code === -2) this.fail(new WorkerError(`the driver of job ${this.config.job} is gone (it stopped renewing its heartbeat); this worker stops`, 'D4_REDIS_DRIVER_GONE'));
          else if (code === -3) this.fail(presumedDead());
          else this.fail(new WorkerError(`the heartbeat thread of worker ${this.consumer} failed (${this.live.error?.message ?? 'unknown error'}); the worker stops`, 'D4_REDIS_HEARTBEAT'));
        },
        lost: (slots) => slots.forEach((slot) => this.loseSlot(slot)),
        silent: (ms) => this.fail(new WorkerError(`Redis has not answered worker ${this.consumer} for ${Math.round(ms / 1000)} s (hung, or its host is gone); the worker stops`, 'D4_REDIS_LOST')),
      },
    );
    return this.member.rank;
  }

  reportExit(code: number, call: PECall | undefined, ms: number): boolean {
    const keys = this.keys;
    const error = peExitError(code, call, `worker ${this.consumer}'s process (pid ${process.pid}, exit code ${code})`);
    const payload = encode(errorReport(this.consumer, error));
    return this.live.reportSync({ meta: keys.meta, driverAlive: keys.driverAlive, alive: keys.alive(this.consumer), driver: keys.driver, counters: keys.counters }, payload, ms);
  }

  /** Another worker holds the slot now (this one was too slow to renew): stop reading it. */
  private loseSlot(slot: number): void {
    const instance = this.slots.get(slot);
    if (!instance) return;
    this.slots.delete(slot);
    this.retired.push(instance);
  }

  private fail(error: unknown): void {
    if (this.failure) return;
    this.failure = error;
    this.stopping = true;
    this.failed(error);
  }

  private peStats(): Record<string, PEStats> {
    const stats: Record<string, PEStats> = {};
    for (const instance of [...this.slots.values(), ...this.shared.values(), ...this.retired]) mergeStats(stats, instance.engine.stats());
    return stats;
  }
}

/** Progress reaches the driver at least this often while workers run (RunOptions.progress). */
const PROGRESS_MS = 200;

/** One set of call counters per job in this process, shared by its workers and the heartbeat thread. */
const jobCounts = new Map<string, Int32Array>();
function progressCounts(job: string, pes: number): Int32Array {
  let counts = jobCounts.get(job);
  if (!counts) jobCounts.set(job, (counts = new Int32Array(new SharedArrayBuffer(4 * pes))));
  return counts;
}

/** Items in an entry (its payload is one encoded array). */
function itemCount(fields: Buffer[]): number {
  for (let i = 0; i < fields.length; i += 2) if (fields[i].toString() === 'd') return decode<unknown[]>(fields[i + 1]).length;
  return 0;
}


/**
 * A PE called process.exit() (see worker-process.ts): tells the driver which PE, item and
 * exit code, through the heartbeat thread, since the main thread cannot wait for Redis any
 * more. Blocks at most `ms`; false when nothing could be sent.
 */
export function reportExit(code: number, call: PECall | undefined, ms: number): boolean {
  const worker = Worker.running ?? Worker.all.values().next().value;
  return worker ? worker.reportExit(code, call, ms) : false;
}

/** A copy of a PE with its own data (for a second instance in one process). */
function clonePE(pe: GenericPE): GenericPE {
  const copy = Object.create(Object.getPrototypeOf(pe)) as Record<string | symbol, unknown>;
  for (const key of Reflect.ownKeys(pe)) {
    const value = (pe as unknown as Record<string | symbol, unknown>)[key];
    try {
      copy[key] = typeof value === 'function' ? value : structuredClone(value);
    } catch {
      copy[key] = value;
    }
  }
  return copy as unknown as GenericPE;
}
