import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { availableParallelism, hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { D4Error, WorkerError, asLoadedWorkflow, feedCall, feedSize, decode, defaultLog, minimumProcesses, statefulReason, requireWorkflowSource, resolveInputs, type GenericPE, type InputSpec, type PEStats, type RootFeed, type RunOptions, type RunResult, type WorkflowGraph, type WorkflowInput, type WorkflowSource } from '@d4/core';
import { LocalEngine, ScalingRecord, fromWireError, idleTimeRule, type WorkerIdleness, OutputCollector, abortError, mergeStats, refuseStatefulPEs, prepareWorkerSource, unconnectedPorts } from '@d4/runtime';
import { NO_ANSWER_MS, checkServer, connectRedis, extraConnection, lostError } from './connect.js';
import { GROUP, jobKeys, jobPattern, type JobKeys } from './keys.js';
import type { JobMeta } from './meta.js';
import { jobIdOption, parseOptions, redactUrl, type ParsedOptions } from './options.js';
import { Outbox } from './outbox.js';
import { makePlan, type Plan, type RedisMappingName } from './plan.js';
import { defineScripts, type Scripts } from './scripts.js';
import type { LocalProcessConfig, WorkerConsumer, WorkerFailure, WorkerReport } from './worker.js';
import { EXIT_REDIS_LOST, deathNotice, exitReason, pendingEntries, takeoverNotices, type TakeoverReport } from './notices.js';

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

/** Stream entries a driver lets wait in Redis before its sources pause (back-pressure). */
const MAX_IN_FLIGHT = 2000;
/** Time a local worker has to start and renew the leases taken for it. */
const BOOT_LEASE_MS = 30_000;

export async function runJob(mapping: RedisMappingName, workflow: WorkflowInput, inputs: InputSpec = {}, options: RedisRunOptions = {}): Promise<RunResult> {
  const started = performance.now();
  const graph = asLoadedWorkflow(workflow).graph.flatten().validate();
  const source = requireWorkflowSource(workflow, mapping);
  const feeds = resolveInputs(graph, inputs);
  // Without -n, a graph gets at least the processes it needs (fixed: one per PE or its
  // numprocesses; hybrid: one per pinned instance), else one worker per core.
  const parsed = parseOptions(options, Math.max(2, availableParallelism(), minimumFor(mapping, graph)));
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
      format: 1,
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
    const driver = new Driver(graph, feeds, plan, meta, parsed, options, redis, reader, jobKeys(job), started, localSource);
    return await driver.run();
  } finally {
    reader?.disconnect();
    redis.disconnect();
  }
}

/** A child process that hosts some of the local workers (consumers). */
interface LocalProcess {
  consumers: WorkerConsumer[];
  child: ChildProcess;
  exited: Promise<void>;
  alive: boolean;
}

class Driver {
  private readonly scripts: Scripts;
  private readonly outbox: Outbox;
  private readonly collector: OutputCollector;
  private readonly log;
  private readonly done: boolean[];
  private readonly watching = new Set<number>();
  private readonly closing = new Map<number, Set<string>>();
  private stopWait: Set<string> | undefined;
  private readonly dead = new Set<string>();
  private readonly reports = new Map<string, WorkerReport>();
  private readonly locals: LocalProcess[] = [];
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly rootEngines: LocalEngine[] = [];
  private ended = false;
  private finished!: () => void;
  private failed!: (error: unknown) => void;
  private readonly outcome: Promise<void>;
  private failure: unknown;
  private active: number;
  private scaling: ScalingRecord | undefined;
  private lastDataAt = 0;

  constructor(
    private readonly graph: WorkflowGraph,
    private readonly feeds: RootFeed[],
    private readonly plan: Plan,
    private readonly meta: JobMeta,
    private readonly parsed: ParsedOptions,
    private readonly options: RedisRunOptions,
    private readonly redis: Redis,
    private readonly reader: Redis,
    private readonly keys: JobKeys,
    private readonly started: number,
    private readonly localSource: WorkflowSource,
  ) {
    this.scripts = defineScripts(redis);
    this.outbox = new Outbox(graph, plan, keys, this.scripts, parsed.tuning.batchSize);
    this.collector = new OutputCollector(options);
    this.log = options.log ?? defaultLog;
    this.done = plan.pes.map((p) => p.mode === 'root');
    this.active = plan.localWorkers;
    this.outcome = new Promise<void>((resolve, reject) => {
      this.finished = resolve;
      this.failed = reject;
    });
    this.outcome.catch(() => {});
  }

  async run(): Promise<RunResult> {
    const abort = () => this.fail(abortError(this.options.signal!));
    this.options.signal?.addEventListener('abort', abort);
    try {
      await this.setup();
      this.spawnWorkers();
      this.announce();
      void this.readEvents();
      this.startTimers();
      this.runRoots().catch((error) => this.fail(error));
      await this.outcome;
      return this.result();
    } catch (error) {
      this.fail(error);
      throw this.failure;
    } finally {
      this.options.signal?.removeEventListener('abort', abort);
      await this.cleanup();
    }
  }

  // ---- setup -------------------------------------------------------------------------

  private async setup(): Promise<void> {
    const { keys, plan, parsed } = this;
    const ttl = parsed.tuning.keyTtlMs;
    const tx = this.redis.multi();
    tx.set(keys.meta, JSON.stringify(this.meta), 'PX', ttl);
    tx.set(keys.driverAlive, String(process.pid), 'PX', driverAliveMs(parsed.tuning.aliveMs));
    tx.hset(keys.counters, 'all', 0, 'active', plan.localWorkers);
    tx.set(keys.rank, plan.localWorkers - 1, 'PX', ttl);
    tx.xadd(keys.driver, '*', 'init', '1');
    if (plan.pes.some((p) => p.mode === 'shared')) tx.xgroup('CREATE', keys.shared, GROUP, '$', 'MKSTREAM');
    plan.slots.forEach((_, s) => tx.xgroup('CREATE', keys.slot(s), GROUP, '$', 'MKSTREAM'));
    plan.localSlots.forEach((slots, i) => {
      for (const s of slots) tx.set(keys.lease(s), localName(i), 'PX', BOOT_LEASE_MS);
    });
    for (const [error] of (await tx.exec()) ?? []) {
      if (error) throw new D4Error('D4_REDIS_SETUP', `cannot create job ${keys.job} on Redis at ${redactUrl(parsed.redisUrl)}: ${error.message}`, { cause: error });
    }
    await this.renewExpiry();
  }

  /** The safety net: every key of the job expires unless a live driver keeps renewing it. */
  private async renewExpiry(): Promise<void> {
    const ttl = this.parsed.tuning.keyTtlMs;
    for (const key of await this.jobKeyList()) {
      // Leases and heartbeats have their own short expiry.
      if (key.includes('}:l') || key.includes('}:hb:') || key === this.keys.driverAlive) continue;
      await this.redis.pexpire(key, ttl);
    }
  }

  private async jobKeyList(): Promise<string[]> {
    const out: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await this.redis.scan(cursor, 'MATCH', jobPattern(this.keys.job), 'COUNT', 1000);
      cursor = next;
      out.push(...batch);
    } while (cursor !== '0');
    return out;
  }

  /**
   * Starts the local workers: `workers` consumers hosted in `processes` child processes
   * (by default one per core, at most one per worker). Each process pays for loading Node,
   * ioredis and the workflow module once; a consumer more in a process costs two
   * connections. A process killed takes its consumers with it: their entries are claimed.
   */
  private spawnWorkers(): void {
    const entry = workerEntry();
    const count = Math.min(this.plan.localWorkers, this.parsed.processes);
    for (let p = 0; p < count; p++) {
      const consumers: WorkerConsumer[] = [];
      for (let i = p; i < this.plan.localWorkers; i += count) consumers.push({ consumer: localName(i), rank: i, slots: this.plan.localSlots[i] });
      const config: LocalProcessConfig = { redisUrl: this.parsed.redisUrl, job: this.keys.job, verbose: this.options.verbose === true, consumers, localSource: this.localSource };
      const child = spawn(process.execPath, [entry], {
        env: { ...process.env, D4_REDIS_WORKER: JSON.stringify(config) },
        stdio: ['ignore', 'inherit', 'inherit'],
      });
      const local: LocalProcess = { consumers, child, alive: true, exited: Promise.resolve() };
      local.exited = new Promise<void>((resolve) => {
        child.once('exit', (code, signal) => {
          local.alive = false;
          if (!this.ended) this.localExit(local, code, signal);
          resolve();
        });
        child.once('error', (error) => {
          local.alive = false;
          if (!this.ended) this.fail(new WorkerError(`cannot start a worker process (${entry}): ${error.message}`, 'D4_WORKER_SPAWN', { cause: error }));
          resolve();
        });
      });
      this.locals.push(local);
    }
  }

  private announce(): void {
    const url = redactUrl(this.parsed.redisUrl);
    const joinCommand = `d4 worker ${this.plan.mapping} --redis-url ${url} --job ${this.keys.job}`;
    if (!this.options.quiet) {
      process.stderr.write(`d4 ${this.plan.mapping}: job ${this.keys.job} on ${url}, ${this.plan.localWorkers} local worker${this.plan.localWorkers === 1 ? '' : 's'}; join from another host with: ${joinCommand}\n`);
    }
    this.options.onJob?.({
      job: this.keys.job,
      mapping: this.plan.mapping,
      redisUrl: url,
      joinCommand,
      localWorkers: this.locals.flatMap((l) => l.consumers.map((c) => ({ consumer: c.consumer, pid: l.child.pid ?? -1 }))),
    });
  }

  private startTimers(): void {
    const { tuning } = this.parsed;
    const every = (ms: number, fn: () => Promise<void> | void) => {
      const timer = setInterval(() => {
        if (this.ended) return;
        Promise.resolve()
          .then(fn)
          .catch((error) => {
            if (!this.ended) this.fail(error);
          });
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
    every(Math.max(1000, Math.floor(tuning.keyTtlMs / 4)), () => this.renewExpiry());
    every(Math.max(50, Math.floor(tuning.aliveMs / 2)), () => this.checkLiveness());
    if (this.plan.mapping === 'dyn_auto_redis') {
      this.scaling = new ScalingRecord(this.active, () => performance.now(), { cap: 1000, startedAt: this.started });
      every(Math.max(20, Math.floor(tuning.idleThreshold / 2)), () => this.autoscale());
    }
  }

  // ---- sources -----------------------------------------------------------------------

  /** Runs the roots here (one instance each, as dispel4py gives every source one process). */
  private async runRoots(): Promise<void> {
    const pes = this.graph.pes();
    const unconnected = unconnectedPorts(pes, this.graph.peEdges());
    const roots: { pe: GenericPE; engine: LocalEngine; feed: RootFeed }[] = [];
    for (const feed of this.feeds) {
      const index = pes.findIndex((pe) => pe.id === feed.peId);
      const pe = pes[index];
      pe.instance = 0;
      pe.numInstances = 1;
      const engine = new LocalEngine({
        pes: [pe],
        localEdges: [],
        externalPorts: this.outbox.externalPorts(index),
        external: this.outbox.writerFor(index, 0),
        unconnectedPorts: unconnected,
        collector: this.collector,
        log: this.log,
        progress: this.options.progress,
      });
      this.rootEngines.push(engine);
      roots.push({ pe, engine, feed });
    }
    for (const root of roots) await root.engine.preprocess();
    const flushAt = this.parsed.tuning.batchSize * 4;
    const signal = this.options.signal;
    for (const { pe, engine, feed } of roots) {
      const total = feedSize(feed);
      for (let k = 0; k < total; k++) {
        const pending = engine.feed(pe, feedCall(feed, k));
        if (pending !== undefined) await pending;
        // Full batches go at once; a slow source's items go within a few milliseconds.
        if (this.outbox.pending >= flushAt || (this.outbox.pending > 0 && performance.now() - this.lastFlush > 5)) await this.flushRoots();
        if (this.ended) return;
        if ((k & 1023) === 1023 && signal?.aborted) throw abortError(signal);
      }
    }
    for (const { pe, engine } of roots) await engine.postprocessOne(pe);
    await this.flushRoots();
    for (const p of this.plan.pes.keys()) if (this.plan.pes[p].mode !== 'root') await this.checkReady(p);
    if (this.done.every(Boolean)) await this.stopPhase();
  }

  private lastFlush = 0;

  private async flushRoots(): Promise<void> {
    this.lastFlush = performance.now();
    const result = await this.outbox.commit();
    if (!result) throw new WorkerError(`job ${this.keys.job} lost its keys on the Redis server mid-run (deleted by someone else, or the server restarted without persistence)`, 'D4_REDIS_JOB_LOST');
    if (result.inFlight > MAX_IN_FLIGHT) {
      // Back-pressure: let the workers catch up instead of filling the server's memory.
      while (!this.ended && Number(await this.redis.hget(this.keys.counters, 'all')) > MAX_IN_FLIGHT / 2) await sleep(5);
    }
  }

  // ---- events ------------------------------------------------------------------------

  private async readEvents(): Promise<void> {
    let lastId = '0';
    let sinceTrim = 0;
    try {
      while (!this.ended) {
        const reply = (await this.reader.xreadBuffer('COUNT', 1000, 'BLOCK', 1000, 'STREAMS', this.keys.driver, lastId)) as [Buffer, [Buffer, Buffer[]][]][] | null;
        if (!reply) continue;
        for (const [, entries] of reply) {
          for (const [id, fields] of entries) {
            lastId = id.toString();
            for (let i = 0; i < fields.length; i += 2) await this.event(fields[i].toString(), fields[i + 1]);
            sinceTrim++;
          }
        }
        if (sinceTrim >= 256) {
          sinceTrim = 0;
          await this.redis.xtrim(this.keys.driver, 'MINID', lastId);
        }
      }
    } catch (error) {
      if (!this.ended) this.fail(error);
    }
  }

  private async event(field: string, value: Buffer): Promise<void> {
    switch (field) {
      case 'r': {
        this.lastDataAt = performance.now();
        for (const [peId, port, values] of decode<[string, string, unknown[]][]>(value)) {
          for (const v of values) this.collector.add(peId, port, v);
        }
        return;
      }
      case 'p': {
        // From the workers' heartbeat threads, as JSON (they load no codec).
        const calls = this.options.progress?.calls;
        if (calls) for (const [peId, n] of Object.entries(JSON.parse(value.toString()) as Record<string, number>)) calls[peId] = (calls[peId] ?? 0) + n;
        return;
      }
      case 'l':
        for (const [peId, instance, message] of decode<[string, number, string][]>(value)) this.log(peId, instance, message);
        return;
      case 'z': {
        this.lastDataAt = performance.now();
        const pe = Number(value.toString());
        if (this.watching.has(pe) && !this.closing.has(pe) && !this.done[pe]) await this.startClose(pe);
        return;
      }
      case 'c': {
        const [consumer, pe] = value.toString().split('|');
        const waiting = this.closing.get(Number(pe));
        if (waiting) {
          waiting.delete(consumer);
          if (waiting.size === 0) await this.finishPE(Number(pe));
        }
        return;
      }
      case 's': {
        const report = decode<WorkerReport>(value);
        this.reports.set(report.consumer, report);
        if (this.stopWait) {
          this.stopWait.delete(report.consumer);
          if (this.stopWait.size === 0) this.finished();
        }
        return;
      }
      case 'x':
        this.fail(workerFailure(decode<WorkerFailure>(value)));
        return;
      case 'k':
        if (!this.options.quiet) process.stderr.write(takeoverNotices(this.plan.mapping, JSON.parse(value.toString()) as TakeoverReport));
        return;
      default:
        return;
    }
  }

  /** A PE whose feeders are all done is closed as soon as nothing is in flight for it. */
  private async checkReady(pe: number): Promise<void> {
    if (this.done[pe] || this.watching.has(pe)) return;
    if (!this.plan.pes[pe].preds.every((p) => this.done[p])) return;
    this.watching.add(pe);
    const inFlight = await this.scripts.watch([this.keys.counters], [pe]);
    if (inFlight === 0 && !this.closing.has(pe)) await this.startClose(pe);
  }

  private readonly closeStarted = new Set<number>();

  private async startClose(pe: number): Promise<void> {
    // The zero event and checkReady may both see the PE ready: close it once.
    if (this.closeStarted.has(pe)) return;
    this.closeStarted.add(pe);
    if (this.plan.pes[pe].mode === 'pinned') await this.localsRegistered();
    const members = await this.scripts.broadcast([this.keys.meta, this.keys.workers], [this.keys.prefix + 'c:', 'close', String(pe)]);
    const waiting = new Set(members.map(String).filter((m) => !this.dead.has(m)));
    this.closing.set(pe, waiting);
    if (waiting.size === 0) await this.finishPE(pe);
  }

  private localsSeen = false;

  /**
   * Waits until every local worker has joined (or its process is gone), so that every pinned
   * instance runs its preprocess and postprocess exactly once, as in a fixed mapping, even
   * when a short job ends before a slow worker started.
   */
  private async localsRegistered(): Promise<void> {
    // Bounded: a worker that has not joined by the end of its boot lease is given up on (its
    // slots are taken over by the others).
    const until = performance.now() + BOOT_LEASE_MS;
    while (!this.localsSeen && !this.ended && performance.now() < until) {
      const members = new Set(await this.redis.smembers(this.keys.workers));
      this.localsSeen = this.locals.every((l) => !l.alive || l.consumers.every((c) => members.has(c.consumer) || this.dead.has(c.consumer)));
      if (!this.localsSeen) await sleep(10);
    }
  }

  private async finishPE(pe: number): Promise<void> {
    if (this.done[pe]) return;
    this.done[pe] = true;
    this.closing.delete(pe);
    for (const next of this.plan.pes[pe].succs) await this.checkReady(next);
    if (this.done.every(Boolean)) await this.stopPhase();
  }

  private async stopPhase(): Promise<void> {
    if (this.stopWait) return;
    const members = await this.scripts.broadcast([this.keys.meta, this.keys.workers], [this.keys.prefix + 'c:', 'stop', '1']);
    this.stopWait = new Set(members.map(String).filter((m) => !this.dead.has(m)));
    if (this.stopWait.size === 0) this.finished();
  }

  // ---- workers coming and going --------------------------------------------------------

  private localExit(local: LocalProcess, code: number | null, signal: NodeJS.Signals | null): void {
    for (const { consumer, slots } of local.consumers) {
      // A worker that reported its stats has simply finished.
      if (code === 0 && (this.reports.has(consumer) || this.stopWait)) continue;
      if (!this.failure && !this.dead.has(consumer)) {
        const notice = () => this.noticeDeath({ consumer, pid: local.child.pid, slots }, exitReason(code, signal, EXIT_REDIS_LOST));
        // A worker that lost Redis: when the driver has lost it too, the driver says so once
        // (D4_REDIS_LOST); only a worker cut off alone is worth a notice of its own. A second
        // later, a server that was shutting down no longer answers the driver either.
        if (code === EXIT_REDIS_LOST) {
          setTimeout(() => {
            if (this.failure || this.ended) return;
            this.redis.ping().then(
              () => !this.failure && notice(),
              () => {},
            );
          }, 1000).unref();
        } else notice();
      }
      // Its leases go at once, so that another worker takes over its slots without waiting.
      const gone = [this.keys.alive(consumer), ...slots.map((s) => this.keys.lease(s))];
      this.redis
        .eval(`for _, k in ipairs(KEYS) do if redis.call('GET', k) == ARGV[1] or string.find(k, ':hb:') then redis.call('DEL', k) end end return 0`, gone.length, ...gone, consumer)
        .catch(() => {});
      this.markDead(consumer);
    }
  }

  /** Says on stderr that a worker died and what becomes of its entries (see notices.ts). */
  private noticeDeath(worker: { consumer: string; pid?: number; slots: number[] }, reason: string): void {
    if (this.options.quiet || this.ended) return;
    void pendingEntries(this.redis, this.keys, this.plan, worker.consumer)
      .then((pending) => {
        if (!this.ended && !this.failure) process.stderr.write(deathNotice(this.plan.mapping, worker, reason, pending, this.parsed.tuning.claimIdleMs));
      })
      .catch(() => {});
  }

  private markDead(consumer: string): void {
    if (this.dead.has(consumer)) return;
    this.dead.add(consumer);
    for (const [pe, waiting] of this.closing) {
      if (waiting.delete(consumer) && waiting.size === 0) void this.finishPE(pe).catch((e) => this.fail(e));
    }
    if (this.stopWait?.delete(consumer) && this.stopWait.size === 0) this.finished();
  }

  /** Workers whose heartbeat expired are dead; a run with no worker left cannot end. */
  private async checkLiveness(): Promise<void> {
    const members = (await this.redis.smembers(this.keys.workers)).filter((m) => !this.dead.has(m));
    const alive = members.length ? await this.redis.mget(...members.map((m) => this.keys.alive(m))) : [];
    members.forEach((m, i) => {
      // A worker that sent its report and left is done, not dead.
      if (alive[i] !== null || this.reports.has(m)) return;
      this.noticeDeath({ consumer: m, slots: [] }, 'stopped renewing its heartbeat (killed, frozen, or cut off from Redis)');
      this.markDead(m);
    });
    const anyAlive = alive.some((v) => v !== null);
    const localsStarting = this.locals.some((l) => l.alive);
    if (!anyAlive && !localsStarting && this.plan.localWorkers > 0 && !this.done.every(Boolean)) {
      this.fail(new WorkerError(`every worker of job ${this.keys.job} has died and none is left to finish it; see the workers' messages above`, 'D4_REDIS_NO_WORKERS'));
    }
  }

  /** dyn_auto_redis: one fewer active worker while one idles above -thr, one more otherwise. */
  private async autoscale(): Promise<void> {
    if (this.stopWait) return;
    const members = (await this.redis.smembers(this.keys.workers)).filter((m) => !this.dead.has(m));
    if (members.length === 0) return;
    const values = await this.redis.mget(...members.map((m) => this.keys.alive(m)));
    // A heartbeat holds "rank:ms since the worker's last item".
    const workers: WorkerIdleness[] = [];
    for (const v of values) {
      const colon = v?.indexOf(':') ?? -1;
      if (v !== null && colon >= 0) workers.push({ rank: Number(v.slice(0, colon)), idleMs: Number(v.slice(colon + 1)) });
    }
    const next = idleTimeRule(this.active, workers, { idleThreshold: this.parsed.tuning.idleThreshold, max: Math.max(this.plan.localWorkers, members.length) });
    if (next === this.active) return;
    this.active = next;
    this.scaling?.note(next);
    if (this.options.verbose) process.stderr.write(`d4 dyn_auto_redis: ${next} active worker${next === 1 ? '' : 's'}\n`);
    await this.redis.hset(this.keys.counters, 'active', next);
    await this.scripts.broadcast([this.keys.meta, this.keys.workers], [this.keys.prefix + 'c:', 'active', String(next)]);
  }

  // ---- the end -------------------------------------------------------------------------

  private fail(error: unknown): void {
    if (this.failure || this.ended) return;
    const failure = this.asD4Error(error);
    this.failure = failure;
    this.failed(failure);
  }

  /** Anything but a D4Error here comes from Redis: the server went away, or refused a command. */
  private asD4Error(error: unknown): D4Error {
    if (error instanceof D4Error) return error;
    const message = (error as Error)?.message ?? String(error);
    if (/NOPERM|NOSCRIPT|unknown command|not allowed/i.test(message)) {
      return new D4Error(
        'D4_REDIS_REFUSED',
        `Redis at ${redactUrl(this.parsed.redisUrl)} refused a command of job ${this.keys.job} (${message}); the Redis mappings need streams (XADD, XREADGROUP, XACK, XAUTOCLAIM), EVAL/EVALSHA and SCAN for the keys d4:{*}:*`,
        { cause: error },
      );
    }
    if ((error as Error)?.name === 'ReplyError') {
      return new D4Error('D4_REDIS_ERROR', `Redis at ${redactUrl(this.parsed.redisUrl)} answered a command of job ${this.keys.job} with an error: ${message}`, { cause: error });
    }
    return lostError(this.parsed.redisUrl, this.keys.job, 'driver', [this.redis, this.reader], error);
  }

  private async cleanup(): Promise<void> {
    this.ended = true;
    for (const timer of this.timers) clearInterval(timer);
    if (this.failure) {
      const reason = (this.failure as Error)?.message ?? String(this.failure);
      await this.scripts.broadcast([this.keys.meta, this.keys.workers], [this.keys.prefix + 'c:', 'abort', reason.slice(0, 500)]).catch(() => {});
    }
    try {
      // The metadata first: every script refuses to write once it is gone.
      await this.redis.del(this.keys.meta);
      const keys = await this.jobKeyList();
      for (let i = 0; i < keys.length; i += 500) await this.redis.unlink(...keys.slice(i, i + 500));
    } catch {
      // The expiry removes what could not be deleted now.
    }
    const grace = this.failure ? 0 : 2000;
    await Promise.all(
      this.locals.map(async (local) => {
        if (!local.alive) return;
        if (grace > 0) await Promise.race([local.exited, sleep(grace)]);
        if (local.alive) local.child.kill('SIGTERM');
        await Promise.race([local.exited, sleep(1000)]);
        if (local.alive) local.child.kill('SIGKILL');
        await local.exited;
      }),
    );
  }

  private result(): RunResult {
    const pes: Record<string, PEStats> = {};
    for (const pe of this.graph.pes()) pes[pe.id] = { instances: 0, calls: 0, writes: 0, processMs: 0 };
    for (const engine of this.rootEngines) mergeStats(pes, engine.stats());
    const workers = [...this.reports.values()].sort((a, b) => a.rank - b.rank);
    for (const report of workers) mergeStats(pes, report.pes);
    const end = performance.now();
    if (this.options.verbose) {
      const redelivered = workers.reduce((n, w) => n + w.redelivered, 0);
      const each = workers.map((w) => `${w.consumer}@${w.host}: ${w.items} items`).join(', ');
      process.stderr.write(`d4 ${this.plan.mapping}: job ${this.keys.job} done; ${workers.length} worker${workers.length === 1 ? '' : 's'} (${each})${redelivered ? `, ${redelivered} items redelivered` : ''}${this.dead.size ? `, dead: ${[...this.dead].join(', ')}` : ''}\n`);
    }
    return {
      outputs: this.collector.outputs,
      counts: this.collector.counts,
      stats: {
        mapping: this.plan.mapping,
        elapsedMs: end - this.started,
        pes,
        job: this.keys.job,
        workers: workers.map(({ consumer, rank, host, pid, items, entries, redelivered, duplicates, startupMs, cpuMs, pes: byPE }) => ({
          consumer,
          rank,
          host,
          pid,
          items,
          entries,
          redelivered,
          duplicates,
          startupMs,
          cpuMs,
          calls: Object.fromEntries(Object.entries(byPE).map(([id, s]) => [id, s.calls])),
        })),
        redelivered: workers.reduce((n, w) => n + w.redelivered, 0),
        duplicates: workers.reduce((n, w) => n + w.duplicates, 0),
        deadWorkers: [...this.dead],
        tailMs: this.lastDataAt ? end - this.lastDataAt : 0,
        ...(this.scaling ? { activeWorkers: this.scaling.samples, activeChanges: this.scaling.changes } : {}),
      },
    };
  }
}

/**
 * How long workers wait for a silent driver before they give up. Longer than a worker's
 * heartbeat: the driver runs the sources, and one long synchronous call of a source blocks
 * its timers; a driver that was killed leaves its workers this long.
 */
function driverAliveMs(aliveMs: number): number {
  return Math.max(30_000, 3 * aliveMs);
}

/** Local workers are L0, L1, …: unique within the job, whose id is in every key. */
function localName(index: number): string {
  return `L${index}`;
}

/** The worker process entry: built JavaScript next to this file (or in dist/ under tests). */
function workerEntry(): string {
  const here = import.meta.url;
  return fileURLToPath(new URL(here.endsWith('.ts') ? '../dist/worker-process.js' : './worker-process.js', here));
}

function workerFailure(report: WorkerFailure): D4Error {
  return fromWireError(report.error, `worker ${report.consumer}`);
}

/** A pause that does not keep the process alive on its own. */
function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** The smallest -n that runs the graph on the mapping. */
function minimumFor(mapping: RedisMappingName, graph: WorkflowGraph): number {
  if (mapping === 'redis') return minimumProcesses(graph);
  if (mapping !== 'hybrid_redis') return 1;
  const fed = new Set(graph.peEdges().map((e) => e.to));
  return graph.pes().reduce((n, pe) => n + (fed.has(pe) && statefulReason(pe) ? Math.max(1, pe.numprocesses) : 0), 0);
}
