import { randomBytes } from 'node:crypto';
import { availableParallelism, hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { D4Error, WorkerError, asLoadedWorkflow, decode, requireWorkflowSource, resolveInputs, type InputSpec, type RootFeed, type RunOptions, type RunResult, type WorkflowGraph, type WorkflowInput, type WorkflowSource } from '@d4/core';
import { CloseWaves, DriverReports, DriverRoots, Membership, OutputCollector, RunControl, abortError, emptyStats, memberStats, minimumPlacement, pause, prepareWorkerSource, refuseStatefulPEs } from '@d4/runtime';
import { Autoscaler } from './autoscaling.js';
import { NO_ANSWER_MS, checkServer, connectRedis, extraConnection, redisFailure } from './connect.js';
import { readDriverStream } from './driver-stream.js';
import { broadcast, type JobContext } from './job-context.js';
import { createJob, deleteJob, driverAliveMs, renewExpiry } from './job-store.js';
import { jobKeys, type JobKeys } from './keys.js';
import { LocalWorkers } from './local-workers.js';
import type { JobMeta } from './meta.js';
import { takeoverNotices, type TakeoverReport } from './notices.js';
import { jobIdOption, parseOptions, redactUrl, type ParsedOptions } from './options.js';
import { Outbox } from './outbox.js';
import { PLACEMENT, makePlan, type Plan, type RedisMappingName } from './plan.js';
import { defineScripts, type Scripts } from './scripts.js';
import type { WorkerFailure, WorkerReport } from './worker-config.js';
import { WorkerDeaths } from './worker-deaths.js';

/** Stream entries a driver lets wait in Redis before its sources pause (back-pressure). */
const MAX_IN_FLIGHT = 2000;

/** What `onJob` receives once the job exists: enough to join it or to watch it. */
export interface JobInfo {
  job: string;
  mapping: RedisMappingName;
  /** The server, password hidden. */
  redisUrl: string;
  /** The command that joins this job from another process or host. */
  joinCommand: string;
  /** The worker processes run() started. */
  localWorkers: { consumer: string; pid: number }[];
}

/** Options of the Redis mappings beyond the CLI flags (for programs and tests). */
export interface RedisRunOptions extends RunOptions {
  numProcesses?: number;
  redisUrl?: string;
  batchSize?: number;
  claimIdleMs?: number;
  idleThreshold?: number;
  /** Child processes that host the local workers (default: one per core, at most -n). */
  processes?: number;
  /** Called once the job exists and its local workers are started. */
  onJob?: (info: JobInfo) => void;
  /** Do not print the job id and join command on stderr. */
  quiet?: boolean;
  /** A job id of the caller's choosing (letters, digits, . _ -); default: random. */
  job?: string;
}

export async function runJob(mapping: RedisMappingName, workflow: WorkflowInput, inputs: InputSpec = {}, options: RedisRunOptions = {}): Promise<RunResult> {
  const started = performance.now();
  const graph = asLoadedWorkflow(workflow).graph.flatten().validate();
  const source = requireWorkflowSource(workflow, mapping);
  const feeds = resolveInputs(graph, inputs);
  // Without -n, a graph gets at least the processes it needs (fixed: one per PE or its
  // numprocesses; hybrid: one per pinned instance), else one worker per core.
  const parsed = parseOptions(options, Math.max(2, availableParallelism(), minimumPlacement(graph, PLACEMENT[mapping])));
  if (mapping === 'dyn_redis' || mapping === 'dyn_auto_redis') refuseStatefulPEs(graph, mapping, ['redis', 'hybrid_redis', 'multi']);
  const plan = makePlan(graph, mapping, parsed.numProcesses);
  const chosenJob = jobIdOption(options);
  if (options.signal?.aborted) throw abortError(options.signal);
  const redis = await connectRedis(parsed.redisUrl, 'driver');
  let reader: Redis | undefined;
  try {
    await checkServer(redis, parsed.redisUrl);
    reader = await extraConnection(parsed.redisUrl, 'driver');
    const job = chosenJob ?? randomBytes(6).toString('hex');
    if (chosenJob && (await redis.exists(jobKeys(job).meta))) {
      throw new D4Error('D4_REDIS_JOB_EXISTS', `a job ${job} is already running on Redis at ${redactUrl(parsed.redisUrl)}; choose another --job id, or leave it out for a random one`);
    }
    const meta: JobMeta = {
      format: 2,
      job,
      mapping,
      source,
      plan,
      tuning: parsed.tuning,
      progress: options.progress !== undefined,
      driver: { host: hostname(), pid: process.pid, started: new Date().toISOString() },
    };
    // Worker processes on this host import a compiled copy of a .ts module (no tsx to load);
    // the job's metadata keeps the module itself for workers joining from other hosts.
    const localSource = await prepareWorkerSource(source);
    return await new Driver(graph, plan, meta, parsed, options, redis, reader, jobKeys(job), started).run(feeds, localSource);
  } finally {
    reader?.disconnect();
    redis.disconnect();
  }
}

/**
 * The driver of one job: it creates the job's keys, starts the local workers, runs the
 * roots, reads what the workers report, closes PE after PE, and ends when every worker has
 * sent its final report (or died). The runtime's RunControl fails the run once and always
 * cleans up; its DriverReports decodes logs, errors and figures; its Membership keeps the
 * workers that come and go.
 */
class Driver implements JobContext {
  readonly scripts: Scripts;
  readonly members = new Membership();
  private readonly control: RunControl;
  private readonly outbox: Outbox;
  private readonly collector: OutputCollector;
  private readonly reports: DriverReports;
  private readonly workerReports = new Map<string, WorkerReport>();
  private readonly locals: LocalWorkers;
  private readonly roots: DriverRoots;
  private readonly termination: CloseWaves;
  private readonly deaths: WorkerDeaths;
  private readonly timers: NodeJS.Timeout[] = [];
  private autoscaler: Autoscaler | undefined;
  private failure: D4Error | undefined;
  private cleaning: Promise<void> | undefined;
  private lastDataAt = 0;

  constructor(
    readonly graph: WorkflowGraph,
    readonly plan: Plan,
    private readonly meta: JobMeta,
    readonly parsed: ParsedOptions,
    readonly options: RedisRunOptions,
    readonly redis: Redis,
    readonly reader: Redis,
    readonly keys: JobKeys,
    private readonly started: number,
  ) {
    this.scripts = defineScripts(redis);
    this.control = new RunControl(() => (this.cleaning ??= this.cleanup()));
    this.outbox = new Outbox(graph, plan, keys, this.scripts, parsed.tuning.batchSize);
    this.collector = new OutputCollector(options);
    this.reports = new DriverReports(this.collector, [], options);
    this.termination = new CloseWaves(plan, this.members, {
      // The commit script puts a 'z' event on the driver's stream when a watched PE's counter reaches zero.
      watch: (pe) => this.scripts.watch([keys.counters], [pe]),
      broadcast: (command, value) => broadcast(this, command, value),
      localsJoined: () => this.locals.allRegistered(),
      fail: (error) => this.fail(error),
    });
    this.deaths = new WorkerDeaths(this, () => this.termination.stopping, () => this.termination.allDone);
    this.locals = new LocalWorkers(this, (local, code, signal) => this.deaths.localExit(local, code, signal));
    const flushAt = parsed.tuning.batchSize * 4;
    this.roots = new DriverRoots({ graph, outbox: this.outbox, collector: this.collector, options, flushAt, flush: () => this.flushRoots(), stopped: () => this.stopped() });
  }

  stopped(): boolean {
    return this.control.stopped;
  }

  fail(error: unknown): void {
    if (this.control.stopped) return;
    this.failure = redisFailure(error, this.parsed.redisUrl, this.keys.job, [this.redis, this.reader]);
    this.control.fail(this.failure);
  }

  async run(feeds: RootFeed[], localSource: WorkflowSource): Promise<RunResult> {
    const signal = this.options.signal;
    const abort = () => this.fail(abortError(signal!));
    signal?.addEventListener('abort', abort);
    try {
      const body = this.body(feeds, localSource).catch((error: unknown) => {
        this.fail(error);
        throw this.failure ?? error;
      });
      return await this.control.run(body);
    } finally {
      signal?.removeEventListener('abort', abort);
    }
  }

  private async body(feeds: RootFeed[], localSource: WorkflowSource): Promise<RunResult> {
    await createJob(this.redis, this.keys, this.meta, this.plan, this.parsed);
    await this.locals.start(localSource);
    this.announce();
    void readDriverStream(this, (field, value) => this.event(field, value));
    this.startTimers();
    this.roots
      .run(feeds)
      .then(() => this.termination.rootsDone())
      .catch((error) => this.fail(error));
    await this.termination.finished;
    return this.result();
  }

  private announce(): void {
    const url = redactUrl(this.parsed.redisUrl);
    const joinCommand = `d4 worker ${this.plan.mapping} --redis-url ${url} --job ${this.keys.job}`;
    if (!this.options.quiet) {
      process.stderr.write(`d4 ${this.plan.mapping}: job ${this.keys.job} on ${url}, ${this.plan.localWorkers} local worker${this.plan.localWorkers === 1 ? '' : 's'}; join from another host with: ${joinCommand}\n`);
    }
    this.options.onJob?.({ job: this.keys.job, mapping: this.plan.mapping, redisUrl: url, joinCommand, localWorkers: this.locals.pids });
  }

  private startTimers(): void {
    const { tuning } = this.parsed;
    const every = (ms: number, fn: () => Promise<void> | void) => {
      const timer = setInterval(() => {
        if (this.stopped()) return;
        Promise.resolve()
          .then(fn)
          .catch((error) => this.fail(error));
      }, ms);
      this.timers.push(timer);
    };
    let answered = Date.now();
    every(Math.max(50, Math.floor(tuning.aliveMs / 3)), () => {
      if (Date.now() - answered > NO_ANSWER_MS) {
        this.fail(new WorkerError(`Redis at ${redactUrl(this.parsed.redisUrl)} has not answered for ${NO_ANSWER_MS / 1000} s (hung, or its host is gone); job ${this.keys.job} stops`, 'D4_REDIS_LOST'));
        this.redis.disconnect();
        this.reader.disconnect();
        return;
      }
      void this.redis.set(this.keys.driverAlive, String(process.pid), 'PX', driverAliveMs(tuning.aliveMs)).then(() => (answered = Date.now()), () => {});
    });
    every(Math.max(1000, Math.floor(tuning.keyTtlMs / 4)), () => renewExpiry(this.redis, this.keys, tuning.keyTtlMs));
    every(Math.max(50, Math.floor(tuning.aliveMs / 2)), () => this.deaths.check(this.locals));
    if (this.plan.mapping === 'dyn_auto_redis') {
      const autoscaler = (this.autoscaler = new Autoscaler(this, this.started, () => this.termination.stopping));
      every(Math.max(20, Math.floor(tuning.idleThreshold / 2)), () => autoscaler.tick());
    }
  }

  /** One field of the driver's stream (see driver-stream.ts and the commit script). */
  private async event(field: string, value: Buffer): Promise<void> {
    switch (field) {
      case 'r':
        this.lastDataAt = performance.now();
        for (const [peId, port, values] of decode<[string, string, unknown[]][]>(value)) for (const v of values) this.collector.add(peId, port, v);
        return;
      case 'p': {
        // From the workers' heartbeat threads, as JSON (they load no codec): calls since the last.
        const calls = this.options.progress?.calls;
        if (calls) for (const [peId, n] of Object.entries(JSON.parse(value.toString()) as Record<string, number>)) calls[peId] = (calls[peId] ?? 0) + n;
        return;
      }
      case 'l':
        for (const [peId, instance, message] of decode<[string, number, string][]>(value)) this.reports.handle({ type: 'log', peId, instance, message }, 'driver');
        return;
      case 'z':
        this.lastDataAt = performance.now();
        return this.termination.zero(Number(value.toString()));
      case 'c': {
        const [consumer, pe] = value.toString().split('|');
        this.termination.closed(consumer, Number(pe));
        return;
      }
      case 's': {
        const report = decode<WorkerReport>(value);
        this.workerReports.set(report.consumer, report);
        this.members.note({ type: 'left', member: report.consumer });
        this.termination.reported(report.consumer);
        return;
      }
      case 'x': {
        const failure = decode<WorkerFailure>(value);
        try {
          this.reports.handle({ type: 'error', error: failure.error }, `worker ${failure.consumer}`);
        } catch (error) {
          this.fail(error);
        }
        return;
      }
      case 'k':
        if (!this.options.quiet) process.stderr.write(takeoverNotices(this.plan.mapping, JSON.parse(value.toString()) as TakeoverReport));
        return;
      default:
        return;
    }
  }

  /** Commits what the roots wrote; while more than MAX_IN_FLIGHT entries wait in Redis, lets the workers catch up instead of filling the server's memory. */
  private async flushRoots(): Promise<void> {
    const result = await this.outbox.commit();
    if (!result) throw new WorkerError(`job ${this.keys.job} lost its keys on the Redis server mid-run (deleted by someone else, or the server restarted without persistence)`, 'D4_REDIS_JOB_LOST');
    if (result.inFlight <= MAX_IN_FLIGHT) return;
    while (!this.stopped() && Number(await this.redis.hget(this.keys.counters, 'all')) > MAX_IN_FLIGHT / 2) await pause(5);
  }

  /** Tells the workers why the run failed, deletes the job's keys, ends the local processes. */
  private async cleanup(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    if (this.failure) {
      const reason = this.failure.message;
      await this.scripts.broadcast([this.keys.meta, this.keys.workers], [this.keys.prefix + 'c:', 'abort', reason.slice(0, 500)]).catch(() => {});
    }
    await deleteJob(this.redis, this.keys);
    await this.locals.stop(this.failure ? 0 : 2000);
  }

  private result(): RunResult {
    const pes = this.reports.stats;
    Object.assign(pes, emptyStats(this.graph.pes()));
    this.roots.mergeStatsInto(pes);
    const reports = [...this.workerReports.values()].sort((a, b) => a.rank - b.rank);
    for (const report of reports) this.reports.final(report.pes, undefined, undefined);
    const workers = memberStats(reports, this.members.dead);
    this.reports.settleProgress();
    const end = performance.now();
    if (this.options.verbose) {
      const each = workers.workers.map((w) => `${w.consumer}@${w.host}: ${w.items} items`).join(', ');
      const dead = workers.deadWorkers;
      process.stderr.write(`d4 ${this.plan.mapping}: job ${this.keys.job} done; ${workers.workers.length} worker${workers.workers.length === 1 ? '' : 's'} (${each})${workers.redelivered ? `, ${workers.redelivered} items redelivered` : ''}${dead.length ? `, dead: ${dead.join(', ')}` : ''}\n`);
    }
    return {
      outputs: this.collector.outputs,
      counts: this.collector.counts,
      stats: {
        mapping: this.plan.mapping,
        elapsedMs: end - this.started,
        pes,
        job: this.keys.job,
        ...workers,
        tailMs: this.lastDataAt ? end - this.lastDataAt : 0,
        ...(this.autoscaler ? { activeWorkers: this.autoscaler.record.samples, activeChanges: this.autoscaler.record.changes } : {}),
      },
    };
  }
}
