import { asLoadedWorkflow, intOption, minimumProcesses, requireWorkflowSource, resolveInputs, type D4Error, type InputSpec, type RunOptions, type RunResult, type WorkflowGraph, type WorkflowInput } from '@d4/core';
import { OutputCollector, abortError, emptyStats } from '@d4/core/internal';
import { availableParallelism } from 'node:os';
import { boolOption, resultMode } from '../options.js';
import { instancePlan, partitionPlan, placeUnits, type MultiPlan } from '../plans/fixed.js';
import type { WorkerMessage } from '../protocol.js';
import type { FixedWorkerJob } from '../worker/fixed-unit.js';
import { DEFAULT_TUNING, type Tuning } from '../worker/tuning.js';
import { prepareWorkerSource } from '../worker-module.js';
import { CallCounters } from './call-counters.js';
import { DriverReports } from './reports.js';
import { RunControl } from './run-control.js';

/** What a backend is given to start the workers of a fixed plan. */
export interface FixedLaunch {
  /** What each worker runs (`runFixedWorker(jobs[w], transport)` in worker w). */
  jobs: FixedWorkerJob[];
  /** The worker that hosts each unit. */
  workerOf: number[];
  plan: MultiPlan;
  graph: WorkflowGraph;
  options: RunOptions;
  /** Every message a worker sends to the driver. */
  deliver(worker: number, message: WorkerMessage): void;
  /** A failure the transport sees itself (a worker died, a link broke): fails the run once. */
  fail(error: D4Error): void;
  /** True once the run is stopping: exits from then on are expected. */
  stopped(): boolean;
}

/** Workers a backend has started. */
export interface LaunchedWorkers {
  /** Names worker w in messages: "worker thread 2 (PE Identity3 instance 1)". */
  label(worker: number): string;
  /** Stops every worker (the run ended, failed or was aborted). */
  stop(): Promise<void>;
}

/** A transport that runs fixed plans: everything else is the runtime's. */
export interface FixedBackend {
  readonly mapping: string;
  /** What its workers are, for the verbose line: "worker threads", "processes", "ranks". */
  readonly workerNoun: string;
  /** How many workers host the plan's units (at least the most instances of one PE). */
  workers(plan: MultiPlan, options: RunOptions): number;
  /**
   * False when workers do not share memory with the driver (processes, ranks, hosts): then
   * each worker reports its call counts for the progress line instead of writing them into
   * the driver's shared counters. Default true (worker threads).
   */
  readonly sharesMemory?: boolean;
  /**
   * Batching and credits for this transport's links, over DEFAULT_TUNING (which suits
   * threads): a link between processes pays per message, so it may want fewer, larger batches.
   */
  readonly tuning?: Partial<Tuning>;
  /** The heap limit of each worker, when the backend sets one (its units then guard large allocations). */
  heapLimitMb?(options: RunOptions): number | undefined;
  launch(launch: FixedLaunch): Promise<LaunchedWorkers> | LaunchedWorkers;
}

/**
 * Runs a workflow on a fixed plan over any transport: dispel4py's process assignment (or
 * partitions with `partitioned`), every unit in a worker the backend starts, items in
 * batches with credits between units, results, logs and progress reported to the driver,
 * and the end exactly when every unit has drained its inputs and sent end of stream.
 */
export async function runFixedJob(backend: FixedBackend, workflow: WorkflowInput, inputs: InputSpec = {}, options: RunOptions = {}): Promise<RunResult> {
  const started = performance.now();
  const source = requireWorkflowSource(workflow, backend.mapping);
  // Workers import a compiled copy of a .ts workflow: no tsx in every worker.
  const workerSource = await prepareWorkerSource(source);
  const graph = asLoadedWorkflow(workflow).graph.flatten().validate();
  const feeds = resolveInputs(graph, inputs);
  const partitioned = boolOption(options, 'partitioned') || boolOption(options, 'simple');
  const cores = availableParallelism();
  const size = intOption(options, 'numProcesses', Math.max(cores, partitioned ? 1 : minimumProcesses(graph)), 1);
  const plan = partitioned ? partitionPlan(graph, size, feeds) : instancePlan(graph, size, feeds);
  const workers = backend.workers(plan, options);
  const workerOf = placeUnits(plan, workers);
  // Live call counts in shared memory: a unit busy in a long synchronous stretch posts nothing.
  // Workers that share no memory with the driver report their counts instead.
  const shared = backend.sharesMemory !== false;
  const counters = options.progress && shared ? new CallCounters(plan.units.map((unit) => unit.peIds)) : undefined;
  const reportProgress = options.progress !== undefined && !shared;
  const heapLimitMb = backend.heapLimitMb?.(options);
  const tuning: Tuning = { ...DEFAULT_TUNING, ...backend.tuning };
  const jobs: FixedWorkerJob[] = Array.from({ length: workers }, (_, w) => {
    const units = plan.units.flatMap((_, u) => (workerOf[u] === w ? [u] : []));
    return { source: workerSource, plan, units, results: resultMode(options), counters: counters && units.map((u) => counters.forOwner(u)), ...(reportProgress ? { reportProgress } : {}), tuning, heapLimitMb };
  });

  if (options.signal?.aborted) throw abortError(options.signal);
  const collector = new OutputCollector(options);
  const reports = new DriverReports(collector, plan.results, options);
  let launched: LaunchedWorkers | undefined;
  const control = new RunControl(() => launched?.stop() ?? Promise.resolve(), options.signal);
  let readyAt = 0;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const deliver = (worker: number, message: WorkerMessage) => {
    if (control.stopped) return;
    try {
      reports.handle(message, launched?.label(worker) ?? `worker ${worker}`);
    } catch (error) {
      control.fail(error as D4Error);
      return;
    }
    if (message.type === 'ready' && reports.ready === plan.units.length) readyAt = performance.now();
    else if (message.type === 'done' && reports.done === plan.units.length) finish();
  };
  launched = await backend.launch({ jobs, workerOf, plan, graph, options, deliver, fail: (error) => control.fail(error), stopped: () => control.stopped });
  counters?.start(options.progress);
  try {
    await control.run(finished);
  } finally {
    counters?.stop();
  }
  const ended = performance.now();
  reports.settleProgress();
  if (options.verbose) {
    process.stderr.write(
      `${backend.mapping}: ${plan.units.length} PE instances${plan.partitioned ? ' (partitions)' : ''} on ${workers} ${backend.workerNoun}${plan.partitioned ? ' (partitioned)' : ''}; processes ${JSON.stringify(plan.processes)}; started in ${Math.round(readyAt - started)} ms, ran ${Math.round(ended - readyAt)} ms\n`,
    );
  }
  return {
    outputs: collector.outputs,
    counts: collector.counts,
    stats: {
      mapping: backend.mapping,
      elapsedMs: ended - started,
      pes: { ...emptyStats(graph.pes()), ...reports.stats },
      instances: plan.units.length,
      workers,
      processes: plan.processes,
      partitioned: plan.partitioned,
      startupMs: readyAt - started,
      runMs: ended - readyAt,
      peakWorkerHeapMb: reports.peakWorkerHeapMb,
      batchesSent: reports.batchesSent,
      itemsSent: reports.itemsSent,
    },
  };
}
