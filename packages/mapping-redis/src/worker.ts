import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { D4Error, WorkerError, encode, peExitError, rebuildWorkflow, type PECall, type LogFn, type WorkflowGraph } from '@d4/core';
import { CommittedBatches, LazyInstances, abortError, checkSameGraph, memberReport, ownPEs, runCommittedLoop, type BatchSource, type CommitReports, type InputEntry } from '@d4/runtime';
import { connectRedis, isConnectionError, lostError } from './connect.js';
import { inputEntries, type DataEntry, type StreamReply } from './entries.js';
import { Liveness, type Member } from './liveness.js';
import { GROUP, jobKeys, type JobKeys } from './keys.js';
import { readMeta, type JobMeta } from './meta.js';
import type { Tuning } from './options.js';
import { Outbox, SHARED_KEY, unitKey, type EntryAck } from './outbox.js';
import type { Plan } from './plan.js';
import { Reclaimer, type ReclaimingWorker } from './reclaim.js';
import type { WorkerConfig, WorkerReport } from './worker-config.js';
import { ReportedError, errorReport, jobGone, reportError } from './worker-errors.js';
import { heartbeatFailure, joinOptions, memberKeys, progressCounts } from './worker-liveness.js';
import { defineScripts } from './scripts.js';

export type { LocalProcessConfig, WorkerConfig, LocalWorker, WorkerFailure, WorkerReport } from './worker-config.js';
export { ReportedError } from './worker-errors.js';

/**
 * A worker of a job: reads its control stream, the units it holds and (when active) the
 * shared group, runs PE instances, and commits each batch atomically. It ends when the
 * driver says stop, and fails when the job is gone or a PE throws.
 */
export async function runWorker(config: WorkerConfig): Promise<WorkerReport> {
  // The heartbeat thread boots while this thread connects and loads the module.
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

/** Errors after which a worker has nothing to tell the driver: the job is over or stopping, or this worker was fenced. */
const QUIET = ['D4_REDIS_JOB_GONE', 'D4_REDIS_JOB_ABORTED', 'D4_REDIS_DRIVER_GONE', 'D4_ABORTED', 'D4_REDIS_LOST', 'D4_REDIS_PRESUMED_DEAD'];

class Worker implements ReclaimingWorker, BatchSource<EntryAck> {
  /** The workers of this process, and the one whose batch is running. */
  static readonly all = new Set<Worker>();
  static running: Worker | undefined;
  readonly plan: Plan;
  readonly tuning: Tuning;
  readonly consumer: string;
  readonly verbose: boolean;
  private readonly outbox: Outbox;
  private readonly instances: LazyInstances;
  private readonly batches: CommittedBatches<EntryAck>;
  private readonly reclaimer: Reclaimer;
  private rank = -1;
  active = true;
  stopping = false;
  private failure: unknown;
  private failed!: (error: unknown) => void;
  private readonly failedPromise: Promise<never>;
  private member?: Member;
  /** Calls per PE index, counted here and sent by the heartbeat thread (when the driver shows progress). */
  private readonly calls?: Int32Array;
  /** ms from the process's start to joining the job. */
  private startupMs = 0;

  constructor(
    private readonly config: WorkerConfig,
    readonly redis: Redis,
    readonly keys: JobKeys,
    private readonly meta: JobMeta,
    graph: WorkflowGraph,
    private readonly live: Liveness,
  ) {
    if (meta.progress) this.calls = progressCounts(keys.job, meta.plan.pes.length);
    this.plan = meta.plan;
    this.tuning = meta.tuning;
    this.verbose = config.verbose === true;
    this.consumer = config.consumer ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
    this.outbox = new Outbox(graph, this.plan, keys, defineScripts(redis), this.tuning.batchSize, keys.alive(this.consumer));
    const pes = graph.pes();
    this.instances = new LazyInstances({
      pes,
      edges: graph.peEdges(),
      freshPE: ownPEs(pes, config.localSource ?? meta.source),
      // A shared PE's copy is numbered by the worker's rank (ranks can pass -n: joiners).
      numbering: (peIndex, unit) =>
        unit === undefined ? { instance: this.rank, numInstances: Math.max(this.plan.numProcesses, this.rank + 1) } : { instance: this.plan.units[unit].instance, numInstances: this.plan.pes[peIndex].units.length },
      writer: (peIndex, instance) => this.outbox.writerFor(peIndex, instance),
      collector: this.outbox.results,
      log: this.logFn,
    });
    this.batches = new CommittedBatches(this.instances, this.outbox, {
      calls: this.calls,
      running: (running) => {
        this.member?.batch(running);
        if (running) Worker.running = this;
        else if (Worker.running === this) Worker.running = undefined;
      },
      gone: () => jobGone(this.config.job),
    });
    this.reclaimer = new Reclaimer(this);
    this.failedPromise = new Promise<never>((_, reject) => {
      this.failed = reject;
    });
    this.failedPromise.catch(() => {});
  }

  async run(): Promise<WorkerReport> {
    Worker.all.add(this);
    const rank = await this.join();
    if (rank < 0) throw jobGone(this.config.job);
    this.rank = rank;
    this.startupMs = Math.round(performance.now());
    if (this.meta.mapping === 'dyn_auto_redis') {
      // Ranks at or above the driver's active count wait until the driver grows the pool.
      const active = await this.redis.hget(this.keys.counters, 'active');
      this.active = active === null || rank < Number(active);
    }
    if (this.verbose) process.stderr.write(`d4 worker ${this.consumer}: joined job ${this.config.job} (${this.meta.mapping}) as rank ${rank}\n`);
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
      for (const unit of this.config.units ?? []) await this.hold(unit);
      await this.commit([]);
      await runCommittedLoop(this, this.batches);
      if (this.failure) throw this.failure;
      // Every call counted is on the driver's stream before this worker's report.
      await this.member?.flush();
      const report = memberReport({ consumer: this.consumer, rank: this.rank, startupMs: this.startupMs }, this.instances.stats(), this.batches.figures);
      await this.commit([], [['s', encode(report)]]);
      return report;
    } catch (error) {
      // A Redis error reply fails the run at once too: a worker that cannot commit cannot go on.
      if (error instanceof D4Error && QUIET.includes(error.code)) throw error;
      // The connection is gone: there is no one to tell through it.
      if (isConnectionError(error)) throw error;
      const reported = await reportError(this.redis, this.keys, this.consumer, error).then(() => true, () => false);
      if (reported) throw new ReportedError(error);
      throw error;
    }
  }

  /** The runtime's input source: one XREADGROUP over the control stream, the units held and (when active) the shared group. */
  read(): Promise<{ entries: InputEntry<EntryAck>[]; closes: number[] }> {
    const streams = this.readStreams();
    const read = this.redis.callBuffer(
      'XREADGROUP', 'GROUP', GROUP, this.consumer, 'COUNT', this.tuning.readCount, 'BLOCK', Math.min(1000, Math.max(50, this.tuning.claimIdleMs >> 1)),
      'STREAMS', ...streams, ...streams.map(() => '>'),
    ) as Promise<StreamReply>;
    return this.received(read, streams);
  }

  private async received(read: Promise<StreamReply>, streams: string[]): Promise<{ entries: InputEntry<EntryAck>[]; closes: number[] }> {
    let reply: StreamReply;
    try {
      reply = await read;
    } catch (error) {
      // The job's keys were deleted under a blocked read: the job is over.
      if (/NOGROUP|UNBLOCKED/.test((error as Error).message)) throw jobGone(this.config.job);
      throw error;
    }
    if (this.failure) throw this.failure;
    const data: DataEntry[] = [];
    const closes: number[] = [];
    for (const [keyBuf, entries] of reply ?? []) {
      const key = keyBuf.toString();
      if (key === streams[0]) {
        for (const [, fields] of entries) if (fields) this.control(fields, closes);
        continue;
      }
      const keyIndex = key === this.keys.shared ? SHARED_KEY : unitKey(Number(key.slice(this.keys.prefix.length + 1)));
      for (const [id, fields] of entries) data.push({ keyIndex, key, id: id.toString(), fields });
    }
    return { entries: inputEntries(data), closes };
  }

  /** The driver's reply once this worker ran a PE's postprocess (its close wave). */
  closed(peIndex: number): CommitReports {
    return [['c', `${this.consumer}|${peIndex}`]];
  }

  between(): Promise<void> {
    return this.reclaimer.maintain();
  }

  private readStreams(): string[] {
    const streams = [this.keys.control(this.consumer)];
    for (const unit of this.instances.held()) streams.push(this.keys.unit(unit));
    if (this.active && this.plan.pes.some((p) => p.mode === 'shared')) streams.push(this.keys.shared);
    return streams;
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

  /** Runs a batch of entries (claimed ones: `redelivered`) and commits it; entries of a unit this worker lost are left alone. */
  async runBatch(entries: DataEntry[], redelivered: boolean): Promise<void> {
    await this.batches.run(inputEntries(entries), redelivered);
  }

  commit(acks: EntryAck[], fields: [string, string | Buffer][] = []): Promise<void> {
    return this.batches.commit(acks, fields);
  }

  holds(unit: number): boolean {
    return this.instances.unit(unit) !== undefined;
  }

  takeLease(unit: number): Promise<number> {
    return this.member!.takeLease({ unit, key: this.keys.lease(unit), stream: this.keys.unit(unit) });
  }

  async hold(unit: number): Promise<string> {
    const instance = await this.instances.hold(unit, this.plan.units[unit].pe);
    return `${this.plan.pes[instance.peIndex].id} instance ${instance.pe.instance}`;
  }

  private readonly logFn: LogFn = (peId, instance, message) => {
    this.outbox.logs.push([peId, instance, message]);
    this.config.log?.(peId, instance, message);
  };

  /**
   * Registers through the heartbeat thread, which from then on renews the heartbeat, the
   * leases and the idle time of running entries. Returns the rank (-1: the job is over).
   */
  private async join(): Promise<number> {
    this.member = await this.live.join(joinOptions(this.meta, this.keys, this.consumer, this.config, this.calls), {
      fatal: (code) => this.fail(heartbeatFailure(code, this.config.job, this.consumer, this.live.error)),
      lost: (units) => units.forEach((unit) => this.instances.lose(unit)),
      silent: (ms) => this.fail(new WorkerError(`Redis has not answered worker ${this.consumer} for ${Math.round(ms / 1000)} s (hung, or its host is gone); the worker stops`, 'D4_REDIS_LOST')),
    });
    return this.member.rank;
  }

  reportExit(code: number, call: PECall | undefined, ms: number): boolean {
    const error = peExitError(code, call, `worker ${this.consumer}'s process (pid ${process.pid}, exit code ${code})`);
    return this.live.reportSync(memberKeys(this.keys, this.consumer), encode(errorReport(this.consumer, error)), ms);
  }

  private fail(error: unknown): void {
    if (this.failure) return;
    this.failure = error;
    this.stopping = true;
    this.failed(error);
  }
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
