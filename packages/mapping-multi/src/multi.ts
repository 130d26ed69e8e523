import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { intOption, type InputSpec, type Mapping, type RunOptions, type RunResult, type WorkflowInput } from '@d4/core';
import { describeUnit, minimumWorkers, runFixedJob, unitLinks, workerExecArgv, type FixedBackend, type FixedLaunch, type MultiPlan } from '@d4/runtime';
import { cores, memoryOption, numProcessesOption, workerMemoryOption } from './options.js';
import { WorkerGroup, type WorkerSpec } from './worker-group.js';

/** What a worker thread of `multi` is given: its job, and one MessagePort per link that crosses threads. */
export interface FixedThreadData {
  kind: 'fixed';
  job: FixedLaunch['jobs'][number];
  /** `ports["u>v"]`: this thread's end of the link from unit u to unit v. */
  ports: Record<string, MessagePort>;
}

/**
 * `multi`: dispel4py's fixed distribution on worker threads, as a transport of the
 * runtime's fixed plans: each PE instance (or, with --partitioned, each partition) is a
 * unit in a worker thread; links between units in different threads are MessageChannels.
 */
const threads: FixedBackend = {
  mapping: 'multi',
  workerNoun: 'worker threads',
  workers(plan: MultiPlan, options: RunOptions): number {
    // Instances of one PE share its object in a thread, so they need threads of their own.
    return Math.min(plan.units.length, Math.max(minimumWorkers(plan), intOption(options, 'threads', Math.min(plan.units.length, cores()), 1)));
  },
  heapLimitMb: memoryOption,
  launch(launch: FixedLaunch) {
    const { jobs, workerOf, plan, graph } = launch;
    const { outbound } = unitLinks(plan, graph.peEdges().map((e) => ({ from: e.from.id, to: e.to.id })));
    const ports: Array<Record<string, MessagePort>> = jobs.map(() => ({}));
    outbound.forEach((tos, u) => {
      for (const v of tos) {
        if (workerOf[u] === workerOf[v]) continue;
        const channel = new MessageChannel();
        ports[workerOf[u]][`${u}>${v}`] = channel.port1;
        ports[workerOf[v]][`${u}>${v}`] = channel.port2;
      }
    });
    const specs: WorkerSpec[] = jobs.map((job, t) => {
      const data: FixedThreadData = { kind: 'fixed', job, ports: ports[t] };
      return { label: `worker thread ${t} (${job.units.map((u) => describeUnit(plan, u)).join('; ')})`, data, transferList: Object.values(ports[t]) };
    });
    const group = new WorkerGroup({
      specs,
      memoryMb: memoryOption(launch.options),
      execArgv: workerExecArgv(jobs[0].source),
      onMessage: (thread, message) => launch.deliver(thread, message),
      fail: launch.fail,
      stopped: launch.stopped,
    });
    return { label: (t: number) => group.label(t), stop: () => group.stop() };
  },
};

export const multiMapping: Mapping = {
  name: 'multi',
  description: "fixed distribution on worker threads: dispel4py's process assignment, each PE instance (or partition, --partitioned) with its own bounded queues, groupings routed exactly",
  stateful: true,
  options: [
    numProcessesOption("processes (PE instances, assigned with dispel4py's formula); default: max(CPU cores, what the graph needs)"),
    { name: 'partitioned', flags: '-s, --partitioned', description: "partitioned mode: each partition (the graph's partitions, else sources | the rest) runs sequentially in one worker", type: 'boolean' },
    { name: 'simple', flags: '--simple', description: "dispel4py's name for --partitioned", type: 'boolean' },
    {
      name: 'threads',
      flags: '--threads <n>',
      description: 'worker threads that host the PE instances (default: the CPU cores, at most one per instance, at least the most instances of one PE)',
      type: 'number',
    },
    workerMemoryOption,
  ],
  run(workflow: WorkflowInput, inputs: InputSpec = {}, options: RunOptions = {}): Promise<RunResult> {
    return runFixedJob(threads, workflow, inputs, options);
  },
};
