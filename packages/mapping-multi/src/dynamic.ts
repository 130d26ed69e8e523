import {
  OutputCollector,
  asLoadedWorkflow,
  emptyStats,
  encodeBatch,
  intOption,
  refuseStatefulPEs,
  requireWorkflowSource,
  prepareWorkerSource,
  workerExecArgv,
  resolveInputs,
  topologicalOrder,
  rebuildWorkflow,
  type WorkflowGraph,
  type WorkflowSource,
  type InputSpec,
  type Mapping,
  type RootFeed,
  type RunOptions,
  type RunResult,
  type WorkflowInput,
} from '@d4/core';
import { nextActive } from './autoscale.js';
import { CallCounters } from './call-counters.js';
import { DriverSink } from './driver-common.js';
import { dynTables } from './dyn-plan.js';
import type { DynWorkerData } from './dyn-worker.js';
import { cores, memoryOption, numProcessesOption, resultMode, workerMemoryOption } from './options.js';
import { AUTOSCALE_TICK_MS, DYN_BATCH_ITEMS, DYN_FLUSH_MS, DYN_PREFETCH, DYN_QUEUED_PER_COPY } from './tuning.js';
import { messageBytes } from './worker-context.js';
import { HeldBatches } from './held-batches.js';
import { WorkerGroup, type WorkerSpec } from './worker-group.js';

/** dyn_auto_multi's default queue threshold (tasks waiting) above which it adds a worker. */
export const DEFAULT_THRESHOLD = 256;

const MAX_ACTIVE_SAMPLES = 10_000;

interface QueuedBatch {
  bytes: Uint8Array;
  n: number;
}

/** One change of the number of active workers (dyn_auto_multi). */
export interface ActiveSample {
  atMs: number;
  active: number;
  /** Tasks waiting (shared queue and prefetched batches) when it changed. */
  queued: number;
  /** Tasks in the batches copies were running then (done or not). */
  running: number;
}

function dynamicMapping(name: 'dyn_multi' | 'dyn_auto_multi', auto: boolean): Mapping {
  return {
    name,
    description: auto
      ? 'dynamic distribution on worker threads with autoscaling: active workers between 1 and -n follow the queue length (stateless PEs only)'
      : 'dynamic distribution on worker threads: any worker runs any (PE, item) task from one shared queue (stateless PEs only)',
    stateful: false,
    options: [
      numProcessesOption('worker copies taking tasks from the shared queue; default: the CPU cores'),
      {
        name: 'threads',
        flags: '--threads <n>',
        description: 'worker threads that host the -n worker copies (default: the CPU cores, when the module exports a factory; else one thread per copy)',
        type: 'number' as const,
      },
      ...(auto
        ? [{ name: 'threshold', flags: '--thr, --threshold <n>', description: `queue length (tasks) above which a worker is added while the queue is not shrinking; one is also added while tasks wait and every active worker is busy (default ${DEFAULT_THRESHOLD})`, type: 'number' as const, default: undefined }]
        : []),
      workerMemoryOption,
    ],
    run: (workflow, inputs, options) => runDynamic(name, auto, workflow, inputs, options),
  };
}

export const dynMultiMapping = dynamicMapping('dyn_multi', false);
export const dynAutoMultiMapping = dynamicMapping('dyn_auto_multi', true);

/**
 * The driver of a dynamic run. It holds the one shared queue of task batches, hands them
 * to workers (each holds at most DYN_PREFETCH batches), feeds roots only while the queue
 * is short (so memory stays bounded), and knows exactly when the work is done: nothing
 * queued, nothing held by a worker, no root call left. Then it asks every worker to
 * postprocess PE by PE in graph order, letting what postprocess writes flow before the
 * next PE, and ends. No idle timeout is involved anywhere.
 */
async function runDynamic(name: string, auto: boolean, workflow: WorkflowInput, inputs: InputSpec = {}, options: RunOptions = {}): Promise<RunResult> {
  const started = performance.now();
  const source = requireWorkflowSource(workflow, name);
  const graph = asLoadedWorkflow(workflow).graph.flatten().validate();
  refuseStatefulPEs(graph, name, ['multi', 'hybrid_redis']);
  const feeds = resolveInputs(graph, inputs);
  const size = intOption(options, 'numProcesses', cores(), 1);
  const threshold = auto ? intOption(options, 'threshold', DEFAULT_THRESHOLD, 0) : 0;
  const memoryMb = memoryOption(options);
  const tables = dynTables(graph);
  const order = topologicalOrder(graph.pes(), graph.peEdges()).map((pe) => pe.id);
  const steal = new SharedArrayBuffer(4 * size);
  const stealFlags = new Int32Array(steal);
  const results = resultMode(options);

  // Worker copies share threads (as many as the cores) when the module can give each copy
  // fresh PE objects; otherwise each copy gets a thread of its own.
  const fresh = await rebuildsFresh(source, graph);
  // Workers import a compiled copy of a .ts workflow: no tsx in every thread.
  const workerSource = await prepareWorkerSource(source);
  const threadCount = fresh ? Math.min(size, intOption(options, 'threads', cores(), 1)) : size;
  const threadOf = Array.from({ length: size }, (_, w) => w % threadCount);
  const peIds = graph.pes().map((pe) => pe.id);
  const counters = options.progress ? new CallCounters(Array.from({ length: size }, () => peIds)) : undefined;
  const specs: WorkerSpec[] = Array.from({ length: threadCount }, (_, t) => {
    const copies = threadOf.flatMap((thread, w) => (thread === t ? [w] : []));
    const data: DynWorkerData = {
      kind: 'dyn',
      source: workerSource,
      copies,
      size,
      tables,
      results,
      counters: counters && copies.map((w) => counters.forOwner(w)),
      steal,
      batchItems: DYN_BATCH_ITEMS,
      flushMs: DYN_FLUSH_MS,
      memoryMb,
    };
    return { label: `worker thread ${t} (${name} worker${copies.length > 1 ? 's' : ''} ${copies.join(', ')})`, data };
  });

  const collector = new OutputCollector(options);
  const sink = new DriverSink(collector, tables.results, options);

  // The shared queue: a stack, so new tasks go first (depth-first keeps the queue short).
  const queue: QueuedBatch[] = [];
  let queuedTasks = 0;
  const held = new HeldBatches(threadOf);
  const ready = new Array<boolean>(size).fill(false);
  const stealAsked = new Array<boolean>(size).fill(false);
  let readyCount = 0;
  let readyAt = 0;
  let steals = 0;
  // Roots: each root's calls all go to one worker (a source runs as one instance, as in
  // dispel4py's fixed mappings), worker 0 unless there are several roots and workers.
  const rootHome = (i: number) => (auto ? 0 : i % size);
  const rootQueues = feeds.map((feed, i) => ({ feed, pos: 0, home: rootHome(i), target: tables.rootTargets[feed.peId] }));
  let rootsLeft = rootQueues.reduce((sum, r) => sum + feedLength(r.feed), 0);

  let active = auto ? Math.floor((size - 1) / 2) + 1 : size;
  const activeOverTime: ActiveSample[] = [{ atMs: 0, active, queued: 0, running: 0 }];
  let lastQueued = 0;
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
      const total = feedLength(r.feed);
      if (r.home !== worker || r.pos >= total) continue;
      // A batch of root calls per copy: the source's copy runs it between its other batches,
      // and each copy needs a batch of what it makes in that time.
      const stop = Math.min(total, r.pos + DYN_BATCH_ITEMS * size);
      const flat: unknown[] = [];
      for (; r.pos < stop; r.pos++) flat.push(r.target, r.feed.items ? r.feed.items[r.pos] : {});
      const n = flat.length / 2;
      rootsLeft -= n;
      return { bytes: messageBytes(encodeBatch(flat, () => ({ peId: r.feed.peId, port: '(input)' }))), n };
    }
    return undefined;
  };

  const give = (worker: number, batch: QueuedBatch) => {
    held.give(worker, batch.n);
    group.post(threadOf[worker], { type: 'batch', copy: worker, bytes: batch.bytes });
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
        if (held.inThread(threadOf[w]) > round) continue;
        const batch = queue.pop();
        if (!batch) continue;
        queuedTasks -= batch.n;
        give(w, batch);
      }
    }
    // Nothing left to hand out but a thread idles: ask a busy copy for work, the tasks it made
    // so far or else part of its batch. A copy that idles in a thread where another copy is
    // busy could not run anyway.
    if (queue.length === 0) {
      let idle = false;
      for (let w = 0; w < active; w++) if (ready[w] && held.inThread(threadOf[w]) === 0) idle = true;
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
        for (let w = 0; w < size; w++) group.post(threadOf[w], { type: 'post', copy: w, peId: order[wave] });
        return;
      }
      phase = 'finishing';
      for (let w = 0; w < size; w++) group.post(threadOf[w], { type: 'finish', copy: w });
    }
  };

  const group = new WorkerGroup({
    specs,
    signal: options.signal,
    memoryMb,
    execArgv: workerExecArgv(workerSource),
    onMessage: (_thread, message) => {
      const w = message.copy as number;
      if (sink.handle(message)) return;
      switch (message.type) {
        case 'ready':
          ready[w] = true;
          if (++readyCount === size) readyAt = performance.now();
          enqueue(message);
          break;
        case 'tasks':
          enqueue(message);
          if (message.done) held.done(w);
          // The copy answered the request (or finished its batch): it may be asked again.
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
        default:
          return;
      }
      dispatch();
      advance();
    },
  });

  let ticker: NodeJS.Timeout | undefined;
  if (auto) {
    ticker = setInterval(() => {
      const queued = queuedTasks + held.waitingTasks;
      const before = active;
      let idleActive = 0;
      for (let w = 0; w < active; w++) if (ready[w] && held.inThread(threadOf[w]) === 0) idleActive++;
      const running = held.runningTasks;
      active = nextActive({ queued, running, lastQueued, idleActive, active, size, threshold });
      lastQueued = queued;
      // The record of changes is capped so that very long runs keep constant memory.
      if (active !== before && activeOverTime.length < MAX_ACTIVE_SAMPLES) {
        activeOverTime.push({ atMs: Math.round(performance.now() - started), active, queued, running });
      }
      if (active > before) dispatch();
    }, AUTOSCALE_TICK_MS);
  }
  counters?.start(options.progress);
  try {
    await group.run(finished);
  } finally {
    if (ticker) clearInterval(ticker);
    counters?.stop();
  }
  const ended = performance.now();
  sink.settleProgress();
  const extra: Record<string, unknown> = { workers: size, threads: threadCount, startupMs: readyAt - started, runMs: ended - readyAt, tailMs: ended - quietAt, steals, peakWorkerHeapMb: sink.peakWorkerHeapMb };
  if (auto) {
    extra.threshold = threshold;
    extra.activeWorkers = activeOverTime;
    extra.meanActiveWorkers = meanActive(activeOverTime, ended - started);
    if (options.verbose) {
      process.stderr.write(
        `${name}: active workers over time: ${activeOverTime.map((s) => `${s.active}@${s.atMs}ms`).join(' ')} (mean ${(extra.meanActiveWorkers as number).toFixed(2)} of ${size}, threshold ${threshold})\n`,
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
 * Whether rebuilding the graph from its module gives new PE objects (a factory export), so
 * that several worker copies can live in one thread. A module that exports a graph object
 * gives the same objects on every import.
 */
async function rebuildsFresh(source: WorkflowSource, graph: WorkflowGraph): Promise<boolean> {
  const again = await rebuildWorkflow(source);
  const known = new Set(graph.pes());
  return again !== graph && again.pes().every((pe) => !known.has(pe));
}

function feedLength(feed: RootFeed): number {
  return feed.items ? feed.items.length : feed.count ?? 0;
}

function meanActive(samples: ActiveSample[], totalMs: number): number {
  if (totalMs <= 0) return samples[samples.length - 1].active;
  let sum = 0;
  for (let i = 0; i < samples.length; i++) {
    const until = i + 1 < samples.length ? samples[i + 1].atMs : totalMs;
    sum += samples[i].active * Math.max(0, until - samples[i].atMs);
  }
  return sum / totalMs;
}
