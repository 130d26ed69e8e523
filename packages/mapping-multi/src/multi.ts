import { MessageChannel, type MessagePort } from 'node:worker_threads';
import {
  OutputCollector,
  asLoadedWorkflow,
  emptyStats,
  intOption,
  minimumProcesses,
  requireWorkflowSource,
  resolveInputs,
  type InputSpec,
  type Mapping,
  type RunOptions,
  type RunResult,
  type WorkflowInput,
} from '@d4/core';
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
  description: 'fixed distribution on worker threads: one worker per PE instance (or per partition with -s), groupings routed exactly',
  stateful: true,
  options: [
    numProcessesOption,
    { name: 'simple', flags: '-s, --simple', description: "partitioned mode: each partition (the graph's partitions, else sources | the rest) runs sequentially in one worker", type: 'boolean' },
    workerMemoryOption,
  ],
  async run(workflow: WorkflowInput, inputs: InputSpec = {}, options: RunOptions = {}): Promise<RunResult> {
    const started = performance.now();
    const source = requireWorkflowSource(workflow, 'multi');
    const graph = asLoadedWorkflow(workflow).graph.flatten().validate();
    const feeds = resolveInputs(graph, inputs);
    const partitioned = boolOption(options, 'simple');
    const size = intOption(options, 'numProcesses', Math.max(cores(), partitioned ? 1 : minimumProcesses(graph)), 1);
    const memoryMb = memoryOption(options);
    const plan = partitioned ? partitionPlan(graph, size, feeds) : instancePlan(graph, size, feeds);

    const { inbound, outbound } = links(plan, graph.peEdges().map((e) => ({ from: e.from.id, to: e.to.id })));
    const results = resultMode(options);
    const specs: WorkerSpec[] = plan.units.map((unit, u) => {
      const data: MultiWorkerData = {
        kind: 'multi',
        source,
        plan,
        unit: u,
        inbound: inbound[u],
        outbound: outbound[u],
        results,
        progress: options.progress !== undefined,
        tuning: DEFAULT_TUNING,
      };
      return {
        label: plan.partitioned ? `worker ${u} (partition ${unit.peIds.join(', ')})` : `worker ${u} (PE ${unit.peIds[0]}, instance ${unit.instance[unit.peIds[0]]})`,
        data,
        transferList: [...inbound[u].map((l) => l.port), ...outbound[u].map((l) => l.port)],
      };
    });

    const collector = new OutputCollector(options);
    const sink = new DriverSink(collector, plan.results, options);
    let ready = 0;
    let readyAt = 0;
    let done = 0;
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const group = new WorkerGroup({
      specs,
      signal: options.signal,
      memoryMb,
      onMessage: (index, message) => {
        if (sink.handle(index, message)) return;
        if (message.type === 'ready') {
          if (++ready === specs.length) readyAt = performance.now();
        } else if (message.type === 'done') {
          sink.final(message.stats, message.counts, message.peakHeapMb);
          if (++done === specs.length) finish();
        }
      },
    });
    await group.run(finished);
    const ended = performance.now();
    const stats = { ...emptyStats(graph.pes()), ...sink.stats };
    if (options.verbose) {
      process.stderr.write(`multi: ${plan.units.length} workers${plan.partitioned ? ' (partitioned)' : ''}; processes ${JSON.stringify(plan.processes)}; started in ${Math.round(readyAt - started)} ms, ran ${Math.round(ended - readyAt)} ms\n`);
    }
    return {
      outputs: collector.outputs,
      counts: collector.counts,
      stats: {
        mapping: 'multi',
        elapsedMs: ended - started,
        pes: stats,
        workers: plan.units.length,
        processes: plan.processes,
        partitioned: plan.partitioned,
        startupMs: readyAt - started,
        runMs: ended - readyAt,
        peakWorkerHeapMb: sink.peakWorkerHeapMb,
      },
    };
  },
};

/** One MessageChannel per pair of units that an edge can carry items between. */
function links(plan: MultiPlan, edges: Array<{ from: string; to: string }>) {
  const inbound: Array<Array<{ from: number; port: MessagePort }>> = plan.units.map(() => []);
  const outbound: Array<Array<{ to: number; port: MessagePort }>> = plan.units.map(() => []);
  const made = new Set<string>();
  for (const e of edges) {
    for (const u of plan.instanceUnits[e.from]) {
      for (const v of plan.instanceUnits[e.to]) {
        if (u === v || made.has(`${u}>${v}`)) continue;
        made.add(`${u}>${v}`);
        const channel = new MessageChannel();
        outbound[u].push({ to: v, port: channel.port1 });
        inbound[v].push({ from: u, port: channel.port2 });
      }
    }
  }
  return { inbound, outbound };
}
