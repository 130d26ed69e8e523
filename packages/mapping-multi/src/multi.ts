import { MessageChannel, type MessagePort } from 'node:worker_threads';
import {
  OutputCollector,
  asLoadedWorkflow,
  emptyStats,
  intOption,
  minimumProcesses,
  requireWorkflowSource,
  prepareWorkerSource,
  workerExecArgv,
  resolveInputs,
  type InputSpec,
  type Mapping,
  type RunOptions,
  type RunResult,
  type WorkflowInput,
} from '@d4/core';
import { CallCounters } from './call-counters.js';
import { DriverSink } from './driver-common.js';
import { instancePlan, partitionPlan, type MultiPlan } from './multi-plan.js';
import type { MultiWorkerData } from './multi-worker.js';
import { boolOption, cores, memoryOption, numProcessesOption, resultMode, workerMemoryOption } from './options.js';
import { DEFAULT_TUNING } from './tuning.js';
import { WorkerGroup, type WorkerSpec } from './worker-group.js';

/**
 * `multi`: dispel4py's fixed distribution on worker threads. Each PE instance (or, with
 * -s, each partition) runs in its own worker; items cross between workers in batches with
 * bounded queues; groupings are routed with core's routers, as in every fixed mapping.
 */
export const multiMapping: Mapping = {
  name: 'multi',
  description: "fixed distribution on worker threads: dispel4py's process assignment, each PE instance (or partition, -s) with its own bounded queues, groupings routed exactly",
  stateful: true,
  options: [
    numProcessesOption("processes (PE instances, assigned with dispel4py's formula); default: max(CPU cores, what the graph needs)"),
    { name: 'simple', flags: '-s, --simple', description: "partitioned mode: each partition (the graph's partitions, else sources | the rest) runs sequentially in one worker", type: 'boolean' },
    {
      name: 'threads',
      flags: '--threads <n>',
      description: 'worker threads that host the PE instances (default: the CPU cores, at most one per instance, at least the most instances of one PE)',
      type: 'number',
    },
    workerMemoryOption,
  ],
  async run(workflow: WorkflowInput, inputs: InputSpec = {}, options: RunOptions = {}): Promise<RunResult> {
    const started = performance.now();
    const source = requireWorkflowSource(workflow, 'multi');
    // Workers import a compiled copy of a .ts workflow: no tsx in every thread.
    const workerSource = await prepareWorkerSource(source);
    const graph = asLoadedWorkflow(workflow).graph.flatten().validate();
    const feeds = resolveInputs(graph, inputs);
    const partitioned = boolOption(options, 'simple');
    const size = intOption(options, 'numProcesses', Math.max(cores(), partitioned ? 1 : minimumProcesses(graph)), 1);
    const memoryMb = memoryOption(options);
    const plan = partitioned ? partitionPlan(graph, size, feeds) : instancePlan(graph, size, feeds);

    const results = resultMode(options);
    // Instances of one PE share its object in a thread, so they need threads of their own.
    const widest = Math.max(1, ...Object.values(plan.numInstances));
    const threadCount = Math.min(plan.units.length, Math.max(widest, intOption(options, 'threads', Math.min(plan.units.length, cores()), 1)));
    const threadOf = placeUnits(plan, threadCount);
    const unitsOf: number[][] = Array.from({ length: threadCount }, () => []);
    plan.units.forEach((_, u) => unitsOf[threadOf[u]].push(u));
    const { inbound, outbound } = links(plan, graph.peEdges().map((e) => ({ from: e.from.id, to: e.to.id })), threadOf);
    const describe = (u: number) => {
      const unit = plan.units[u];
      return plan.partitioned ? `partition ${unit.peIds.join(', ')}` : `PE ${unit.peIds[0]} instance ${unit.instance[unit.peIds[0]]}`;
    };
    const counters = options.progress ? new CallCounters(plan.units.map((unit) => unit.peIds)) : undefined;
    const specs: WorkerSpec[] = unitsOf.map((units, t) => {
      const data: MultiWorkerData = {
        kind: 'multi',
        source: workerSource,
        plan,
        units: units.map((u) => ({ unit: u, inbound: inbound[u], outbound: outbound[u], counters: counters?.forOwner(u) })),
        results,
        tuning: DEFAULT_TUNING,
        memoryMb,
      };
      return {
        label: `worker thread ${t} (${units.map(describe).join('; ')})`,
        data,
        transferList: units.flatMap((u) => [...inbound[u], ...outbound[u]].flatMap((l) => (l.port ? [l.port] : []))),
      };
    });

    const collector = new OutputCollector(options);
    const sink = new DriverSink(collector, plan.results, options);
    let ready = 0;
    let readyAt = 0;
    let done = 0;
    let batchesSent = 0;
    let itemsSent = 0;
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const group = new WorkerGroup({
      specs,
      signal: options.signal,
      memoryMb,
      execArgv: workerExecArgv(workerSource),
      onMessage: (index, message) => {
        if (sink.handle(message)) return;
        if (message.type === 'ready') {
          if (++ready === specs.length) readyAt = performance.now();
        } else if (message.type === 'done') {
          sink.final(message.stats, message.counts, message.peakHeapMb);
          batchesSent += message.batchesSent;
          itemsSent += message.itemsSent;
          if (++done === plan.units.length) finish();
        }
      },
    });
    counters?.start(options.progress);
    try {
      await group.run(finished);
    } finally {
      counters?.stop();
    }
    const ended = performance.now();
    sink.settleProgress();
    const stats = { ...emptyStats(graph.pes()), ...sink.stats };
    if (options.verbose) {
      process.stderr.write(`multi: ${plan.units.length} PE instances${plan.partitioned ? ' (partitions)' : ''} on ${threadCount} worker threads${plan.partitioned ? ' (partitioned)' : ''}; processes ${JSON.stringify(plan.processes)}; started in ${Math.round(readyAt - started)} ms, ran ${Math.round(ended - readyAt)} ms\n`);
    }
    return {
      outputs: collector.outputs,
      counts: collector.counts,
      stats: {
        mapping: 'multi',
        elapsedMs: ended - started,
        pes: stats,
        instances: plan.units.length,
        workers: threadCount,
        processes: plan.processes,
        partitioned: plan.partitioned,
        startupMs: readyAt - started,
        runMs: ended - readyAt,
        peakWorkerHeapMb: sink.peakWorkerHeapMb,
        batchesSent,
        itemsSent,
      },
    };
  },
};

/**
 * Which thread runs each unit: consecutive units (a PE's neighbours in join order) share a
 * thread, so that most hops of a pipeline stay inside a thread, up to an even share per
 * thread; two instances of one PE never share a thread.
 */
function placeUnits(plan: MultiPlan, threads: number): number[] {
  const share = Math.ceil(plan.units.length / threads);
  const load = new Array<number>(threads).fill(0);
  const pesIn: Array<Set<string>> = Array.from({ length: threads }, () => new Set());
  const threadOf: number[] = [];
  let t = 0;
  plan.units.forEach((unit, u) => {
    const fits = (k: number, strict: boolean) => (!strict || load[k] < share) && unit.peIds.every((id) => !pesIn[k].has(id));
    let k = t;
    for (let tries = 0; tries < threads && !fits(k, true); tries++) k = (k + 1) % threads;
    if (!fits(k, true)) {
      k = 0;
      while (!fits(k, false)) k++;
    }
    threadOf[u] = k;
    load[k]++;
    for (const id of unit.peIds) pesIn[k].add(id);
    if (load[k] >= share) t = (k + 1) % threads;
    else t = k;
  });
  return threadOf;
}

/**
 * One link per pair of units that an edge can carry items between: a MessageChannel across
 * threads, nothing (the worker pairs them in memory) inside a thread.
 */
function links(plan: MultiPlan, edges: Array<{ from: string; to: string }>, threadOf: number[]) {
  const inbound: Array<Array<{ from: number; port?: MessagePort }>> = plan.units.map(() => []);
  const outbound: Array<Array<{ to: number; port?: MessagePort }>> = plan.units.map(() => []);
  const made = new Set<string>();
  for (const e of edges) {
    for (const u of plan.instanceUnits[e.from]) {
      for (const v of plan.instanceUnits[e.to]) {
        if (u === v || made.has(`${u}>${v}`)) continue;
        made.add(`${u}>${v}`);
        if (threadOf[u] === threadOf[v]) {
          outbound[u].push({ to: v });
          inbound[v].push({ from: u });
          continue;
        }
        const channel = new MessageChannel();
        outbound[u].push({ to: v, port: channel.port1 });
        inbound[v].push({ from: u, port: channel.port2 });
      }
    }
  }
  return { inbound, outbound };
}
