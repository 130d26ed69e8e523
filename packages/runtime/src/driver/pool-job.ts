import { availableParallelism } from 'node:os';
import { asLoadedWorkflow, encodeBatch, feedCall, feedSize, intOption, rebuildWorkflow, requireWorkflowSource, resolveInputs, type D4Error, type InputSpec, type RunOptions, type RunResult, type WorkflowGraph, type WorkflowInput, type WorkflowSource } from '@d4/core';
import { OutputCollector, abortError, emptyStats, refuseStatefulPEs, topologicalOrder } from '@d4/core/internal';
import { ScalingRecord, initialActiveWorkers, queueLengthRule } from '../autoscale.js';
import { resultMode } from '../options.js';
import { dynamicPlan } from '../plans/dynamic.js';
import type { PoolCommand, PoolReply, WorkerMessage } from '../protocol.js';
import type { PoolWorkerJob } from '../worker/pool-worker.js';
import { ownBytes } from '../worker/result-sink.js';
import { AUTOSCALE_TICK_MS, DYN_BATCH_ITEMS, DYN_FLUSH_MS, DYN_PREFETCH, DYN_QUEUED_PER_COPY } from '../worker/tuning.js';
import { prepareWorkerSource } from '../worker-module.js';
import { CallCounters } from './call-counters.js';
import { HeldBatches } from './held-batches.js';
import { DriverReports } from './reports.js';
import { RunControl } from './run-control.js';
import type { LaunchedWorkers } from './fixed-job.js';

/** dyn_auto_*'s default queue threshold (tasks waiting) above which it adds a worker. */
export const DEFAULT_THRESHOLD = 256;

const MAX_ACTIVE_SAMPLES = 10_000;

interface QueuedBatch {
  bytes: Uint8Array;
  n: number;
}

/** What a backend is given to start the hosts of a pool (threads, processes) and their workers. */
export interface PoolLaunch {
  /** What each host runs (`runPoolWorker(jobs[h], transport)` in host h). */
  jobs: PoolWorkerJob[];
  /** The host of each worker. */
  hostOf: number[];
  options: RunOptions;
  /** Every message a host sends to the driver. */
  deliver(host: number, message: WorkerMessage | PoolReply): void;
  /** A failure the transport sees itself (a host died): fails the run once. */
  fail(error: D4Error): void;
  stopped(): boolean;
}

/** Started hosts of a pool: the driver sends them commands. */
export interface LaunchedPool extends LaunchedWorkers {
  post(host: number, command: PoolCommand): void;
}

/** A transport that runs a shared pool: everything else (the queue, dispatch, close waves) is the runtime's. */
export interface PoolBackend {
  /** What hosts are, for messages: "worker thread". */
  readonly workerNoun: string;
  /** The stats key that counts hosts ('threads'). */
  readonly hostsStat: string;
  /** How many hosts the workers share when the module rebuilds fresh PEs. */
  hosts(options: RunOptions): number;
  /** The heap limit of each host, when the backend sets one (its workers then guard large allocations). */
  heapLimitMb?(options: RunOptions): number | undefined;
  launch(launch: PoolLaunch): Promise<LaunchedPool> | LaunchedPool;
}

/**
 * The driver of a dynamic run. It holds the one shared queue of task batches, hands them
 * to workers (each holds at most DYN_PREFETCH batches), feeds roots only while the queue
 * is short (so memory stays bounded), and knows exactly when the work is done: nothing
 * queued, nothing held by a worker, no root call left. Then it asks every worker to
 * postprocess PE by PE in graph order, letting what postprocess writes flow before the
 * next PE, and ends. No idle timeout is involved anywhere.
 */
export async function runPoolJob(backend: PoolBackend, name: string, auto: boolean, workflow: WorkflowInput, inputs: InputSpec = {}, options: RunOptions = {}): Promise<RunResult> {
  const started = performance.now();
  const source = requireWorkflowSource(workflow, name);
  const graph = asLoadedWorkflow(workflow).graph.flatten().validate();
  refuseStatefulPEs(graph, name, ['multi', 'hybrid_redis']);
  const feeds = resolveInputs(graph, inputs);
  const size = intOption(options, 'numProcesses', availableParallelism(), 1);
  const threshold = auto ? intOption(options, 'threshold', DEFAULT_THRESHOLD, 0) : 0;
  const tables = dynamicPlan(graph);
  const order = topologicalOrder(graph.pes(), graph.peEdges()).map((pe) => pe.id);
  const steal = new SharedArrayBuffer(4 * size);
  const stealFlags = new Int32Array(steal);
  const results = resultMode(options);

  // Workers import a compiled copy of a .ts workflow: no tsx in every thread.
  const workerSource = await prepareWorkerSource(source);
  // Workers share threads (as many as the cores) when the module can give each worker
  // PE objects of its own; otherwise each worker gets a thread of its own.
  const fresh = await rebuildsFresh(workerSource);
  const hostCount = fresh ? Math.min(size, backend.hosts(options)) : size;
  const hostOf = Array.from({ length: size }, (_, w) => w % hostCount);
  // Live call counts in shared memory: a worker busy in a long synchronous stretch posts nothing.
  const peIds = graph.pes().map((pe) => pe.id);
  const counters = options.progress ? new CallCounters(Array.from({ length: size }, () => peIds)) : undefined;
  const heapLimitMb = backend.heapLimitMb?.(options);
  const jobs: PoolWorkerJob[] = Array.from({ length: hostCount }, (_, t) => ({
    source: workerSource,
    workers: hostOf.flatMap((host, w) => (host === t ? [w] : [])),
    size,
    plan: tables,
    results,
    counters: counters && hostOf.flatMap((host, w) => (host === t ? [counters.forOwner(w)] : [])),
    steal,
    heapLimitMb,
    batchItems: DYN_BATCH_ITEMS,
    flushMs: DYN_FLUSH_MS,
  }));

  const collector = new OutputCollector(options);
  const sink = new DriverReports(collector, tables.results, options);

  // The shared queue: a stack, so new tasks go first (depth-first keeps the queue short).
  const queue: QueuedBatch[] = [];
  let queuedTasks = 0;
  const held = new HeldBatches(hostOf);
  const ready = new Array<boolean>(size).fill(false);
  const stealAsked = new Array<boolean>(size).fill(false);
  let readyCount = 0;
  let readyAt = 0;
  let steals = 0;
  // Roots: each root's calls all go to one worker (a source runs as one instance, as in
  // dispel4py's fixed mappings), worker 0 unless there are several roots and workers.
  const rootHome = (i: number) => (auto ? 0 : i % size);
  const rootQueues = feeds.map((feed, i) => ({ feed, pos: 0, home: rootHome(i), target: tables.rootTargets[feed.peId] }));
  let rootsLeft = rootQueues.reduce((sum, r) => sum + feedSize(r.feed), 0);

  let active = auto ? initialActiveWorkers(size) : size;
  const scalingRecord = new ScalingRecord(active, () => performance.now(), { cap: MAX_ACTIVE_SAMPLES, withQueue: true, startedAt: started });
  let phase: 'running' | 'post' | 'finishing' = 'running';
  let wave = -1;
  let postedAwaited = 0;
  let finals = 0;
  let quietAt = 0;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });

  const enqueue = (message: { bytes?: Uint8Array; n: number }) => {
    if (!message.bytes || message.n === 0) return;
    queue.push({ bytes: message.bytes, n: message.n });
    queuedTasks += message.n;
  };

  const rootBatch = (worker: number): QueuedBatch | undefined => {
    for (const r of rootQueues) {
      const total = feedSize(r.feed);
      if (r.home !== worker || r.pos >= total) continue;
      // A batch of root calls per worker: the source's worker runs it between its other batches,
      // and each worker needs a batch of what it makes in that time.
      const stop = Math.min(total, r.pos + DYN_BATCH_ITEMS * size);
      const flat: unknown[] = [];
      for (; r.pos < stop; r.pos++) flat.push(r.target, feedCall(r.feed, r.pos));
      const n = flat.length / 2;
      rootsLeft -= n;
      return { bytes: ownBytes(encodeBatch(flat, () => ({ peId: r.feed.peId, port: '(input)' }))), n };
    }
    return undefined;
  };

  const give = (worker: number, batch: QueuedBatch) => {
    held.give(worker, batch.n);
    launched!.post(hostOf[worker], { type: 'batch', worker, bytes: batch.bytes });
  };

  const dispatch = () => {
    for (let round = 0; round < DYN_PREFETCH; round++) {
      for (let w = 0; w < size; w++) {
        if (!ready[w] || held.count(w) > round) continue;
        // Roots only while few tasks are queued: a fast source cannot flood memory. Counted in
        // tasks, not batches: a queue of a few small batches must not starve the source.
        if (rootsLeft > 0 && queuedTasks < DYN_QUEUED_PER_COPY * size) {
          const batch = rootBatch(w);
          if (batch) {
            give(w, batch);
            continue;
          }
        }
        if (w >= active) continue;
        if (held.inHost(hostOf[w]) > round) continue;
        const batch = queue.pop();
        if (!batch) continue;
        queuedTasks -= batch.n;
        give(w, batch);
      }
    }
    // Nothing left to hand out but a thread idles: ask a busy worker for work, the tasks it made
    // so far or else part of its batch. A worker that idles in a thread where another worker is
    // busy could not run anyway.
    if (queue.length === 0) {
      let idle = false;
      for (let w = 0; w < active; w++) if (ready[w] && held.inHost(hostOf[w]) === 0) idle = true;
      if (idle) {
        for (let w = 0; w < size; w++) {
          if (held.count(w) > 0 && !stealAsked[w]) {
            stealAsked[w] = true;
            steals++;
            Atomics.store(stealFlags, w, 1);
            break;
          }
        }
      }
    }
  };

  const quiet = () => readyCount === size && queue.length === 0 && rootsLeft === 0 && held.none();

  const advance = () => {
    if (phase === 'running') {
      if (!quiet()) return;
      quietAt = performance.now();
      phase = 'post';
    }
    if (phase === 'post') {
      if (postedAwaited > 0 || !quiet()) return;
      wave++;
      if (wave < order.length) {
        postedAwaited = size;
        for (let w = 0; w < size; w++) launched!.post(hostOf[w], { type: 'post', worker: w, peId: order[wave] });
        return;
      }
      phase = 'finishing';
      for (let w = 0; w < size; w++) launched!.post(hostOf[w], { type: 'finish', worker: w });
    }
  };

  if (options.signal?.aborted) throw abortError(options.signal);
  let launched: LaunchedPool | undefined;
  const control = new RunControl(() => launched?.stop() ?? Promise.resolve(), options.signal);
  const deliver = (host: number, message: WorkerMessage | PoolReply) => {
    if (control.stopped) return;
    try {
      if (isReport(message)) {
        sink.handle(message, launched?.label(host) ?? `${backend.workerNoun} ${host}`);
        return;
      }
      onReply(message);
    } catch (error) {
      control.fail(error as D4Error);
    }
  };
  const onReply = (message: PoolReply) => {
    const w = message.worker;
    switch (message.type) {
      case 'ready':
        ready[w] = true;
        if (++readyCount === size) readyAt = performance.now();
        enqueue(message);
        break;
      case 'tasks':
        enqueue(message);
        if (message.done) held.done(w);
        // The worker answered the request (or finished its batch): it may be asked again.
        if (message.done || message.answered) stealAsked[w] = false;
        break;
      case 'posted':
        enqueue(message);
        postedAwaited--;
        break;
      case 'final':
        sink.final(message.stats, message.counts, message.peakHeapMb);
        if (++finals === size) finish();
        return;
    }
    dispatch();
    advance();
  };
  launched = await backend.launch({ jobs, hostOf, options, deliver, fail: (error) => control.fail(error), stopped: () => control.stopped });

  let ticker: NodeJS.Timeout | undefined;
  if (auto) {
    let scaling = { active, lastQueued: 0 };
    ticker = setInterval(() => {
      const queued = queuedTasks + held.waitingTasks;
      const running = held.runningTasks;
      let idleActive = 0;
      for (let w = 0; w < active; w++) if (ready[w] && held.inHost(hostOf[w]) === 0) idleActive++;
      const before = active;
      scaling = queueLengthRule(scaling, { queued, running, idleActive }, { threshold, max: size });
      active = scaling.active;
      scalingRecord.note(active, { queued, running });
      if (active > before) dispatch();
    }, AUTOSCALE_TICK_MS);
  }
  counters?.start(options.progress);
  try {
    await control.run(finished);
  } finally {
    if (ticker) clearInterval(ticker);
    counters?.stop();
  }
  const ended = performance.now();
  sink.settleProgress();
  const extra: Record<string, unknown> = { workers: size, [backend.hostsStat]: hostCount, startupMs: readyAt - started, runMs: ended - readyAt, tailMs: ended - quietAt, steals, peakWorkerHeapMb: sink.peakWorkerHeapMb };
  if (auto) {
    extra.threshold = threshold;
    extra.activeWorkers = scalingRecord.samples;
    extra.meanActiveWorkers = scalingRecord.mean(ended - started);
    if (options.verbose) {
      process.stderr.write(
        `${name}: active workers over time: ${scalingRecord.samples.map((s) => `${s.active}@${s.atMs}ms`).join(' ')} (mean ${(extra.meanActiveWorkers as number).toFixed(2)} of ${size}, threshold ${threshold})\n`,
      );
    }
  } else if (options.verbose) {
    process.stderr.write(`${name}: ${size} workers; started in ${Math.round(readyAt - started)} ms, ran ${Math.round(ended - readyAt)} ms; ${steals} requests to split a batch for an idle worker\n`);
  }
  return {
    outputs: collector.outputs,
    counts: collector.counts,
    stats: { mapping: name, elapsedMs: ended - started, pes: { ...emptyStats(graph.pes()), ...sink.stats }, ...extra },
  };
}

/**
 * Whether the workers of one thread get PE objects of their own from `source`, the copy
 * they import: a factory export builds new ones at each call, and a module that exports a
 * graph object does when imported afresh (runPoolWorker imports it so for each further
 * worker), unless its PEs are made in a module it imports.
 */
async function rebuildsFresh(source: WorkflowSource): Promise<boolean> {
  const first = new Set((await rebuildWorkflow(source)).pes());
  return (await rebuildWorkflow(source, 'driver-check')).pes().every((pe) => !first.has(pe));
}

/** The runtime's reports (results, logs, progress, a failure); the rest is the pool's own protocol. */
function isReport(message: WorkerMessage | PoolReply): message is WorkerMessage {
  return message.type === 'results' || message.type === 'log' || message.type === 'progress' || message.type === 'error';
}
