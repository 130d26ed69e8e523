import { intOption, type Mapping, type RunOptions } from '@d4/core';
import { DEFAULT_THRESHOLD, runPoolJob, workerExecArgv, type PoolBackend, type PoolLaunch, type PoolWorkerJob } from '@d4/runtime';
import { cores, memoryOption, numProcessesOption, workerMemoryOption } from './options.js';
import { WorkerGroup, type WorkerSpec } from './worker-group.js';

export { DEFAULT_THRESHOLD };
/** One change of the number of active workers (dyn_auto_multi): the runtime's. */
export type { ActiveSample } from '@d4/runtime';

/** What a worker thread of dyn_multi / dyn_auto_multi is given: the workers it hosts (their job carries the steal flags). */
export interface PoolThreadData {
  kind: 'pool';
  job: PoolWorkerJob;
}

/**
 * dyn_multi and dyn_auto_multi as a transport of the runtime's shared pool: the worker
 * workers live in worker threads (several per thread, each with its own evaluation of the workflow module), the
 * driver's commands and the workers' replies go over the threads' parent ports, and the
 * requests for work of an idle worker over a SharedArrayBuffer the driver and threads share.
 */
function threadPool(name: string): PoolBackend {
  return {
    workerNoun: 'worker thread',
    hostsStat: 'threads',
    hosts: (options: RunOptions) => intOption(options, 'threads', cores(), 1),
    heapLimitMb: memoryOption,
    launch(launch: PoolLaunch) {
      const specs: WorkerSpec[] = launch.jobs.map((job, t) => {
        const data: PoolThreadData = { kind: 'pool', job };
        return { label: `worker thread ${t} (${name} worker${job.workers.length > 1 ? 's' : ''} ${job.workers.join(', ')})`, data };
      });
      const group = new WorkerGroup({
        specs,
        memoryMb: memoryOption(launch.options),
        execArgv: workerExecArgv(launch.jobs[0].source),
        onMessage: (thread, message) => launch.deliver(thread, message),
        fail: launch.fail,
        stopped: launch.stopped,
      });
      return { post: (thread, command) => group.post(thread, command), label: (t) => group.label(t), stop: () => group.stop() };
    },
  };
}

function dynamicMapping(name: 'dyn_multi' | 'dyn_auto_multi', auto: boolean): Mapping {
  const backend = threadPool(name);
  return {
    name,
    description: auto
      ? 'dynamic distribution on worker threads with autoscaling: active workers between 1 and -n follow the queue length (stateless PEs only)'
      : 'dynamic distribution on worker threads: any worker runs any (PE, item) task from one shared queue (stateless PEs only)',
    stateful: false,
    options: [
      numProcessesOption('workers taking tasks from the shared queue; default: the CPU cores'),
      {
        name: 'threads',
        flags: '--threads <n>',
        description: 'worker threads that host the -n workers (default: the CPU cores; one thread per worker when the module cannot give each worker PE objects of its own: its graph is built in a module it imports)',
        type: 'number' as const,
      },
      ...(auto
        ? [{ name: 'threshold', flags: '--thr, --threshold <n>', description: `queue length (tasks) above which a worker is added while the queue is not shrinking; one is also added while tasks wait and every active worker is busy (default ${DEFAULT_THRESHOLD})`, type: 'number' as const, default: undefined }]
        : []),
      workerMemoryOption,
    ],
    run: (workflow, inputs, options) => runPoolJob(backend, name, auto, workflow, inputs, options),
  };
}

export const dynMultiMapping = dynamicMapping('dyn_multi', false);
export const dynAutoMultiMapping = dynamicMapping('dyn_auto_multi', true);
