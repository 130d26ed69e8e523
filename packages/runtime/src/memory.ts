import { WorkflowLoadError, decode, encode, rebuildWorkflow, type GenericPE, type Mapping, type WorkflowSource } from '@d4/core';
import { runFixedJob, type FixedBackend, type FixedLaunch } from './driver/fixed-job.js';
import { runPoolJob, type PoolBackend, type PoolLaunch } from './driver/pool-job.js';
import { minimumWorkers } from './plans/fixed.js';
import type { LinkFrame, PoolCommand, PoolReply, WorkerMessage } from './protocol.js';
import type { FixedTransport, Link } from './transport.js';
import { runFixedWorker } from './worker/fixed-worker.js';
import { runPoolWorker } from './worker/pool-worker.js';
import { toWireError } from './wire-errors.js';

/**
 * The in-memory transport: every worker of a fixed plan in the caller's thread, one worker
 * per unit, so that every link crosses "workers" the way it would cross threads, processes
 * or hosts. Frames are delivered on a later turn of the event loop, in order; batches travel
 * as their encoded bytes and reports through core's codec, so what a real transport must
 * carry is carried here too. It is the worked example of `FixedTransport` (see the README)
 * and the transport the conformance kit checks the runtime itself on.
 */
class MemoryLink implements Link {
  private listener: ((frame: LinkFrame) => void) | undefined;
  other!: MemoryLink;

  constructor(private readonly live: () => boolean) {}

  send(frame: LinkFrame): void {
    // A copy, as a real transport's would be: the sender may reuse what it sent.
    const copy = frame instanceof Uint8Array ? frame.slice() : frame;
    setImmediate(() => {
      if (this.live()) this.other.listener!(copy);
    });
  }

  onFrame(listener: (frame: LinkFrame) => void): void {
    this.listener = listener;
  }
}

/** The in-memory FixedBackend itself, for tests that run `runFixedJob` on it with settings of their own. */
export function memoryBackend(): FixedBackend {
  return {
    mapping: 'memory',
    workerNoun: 'in-memory workers',
    workers: (plan) => Math.max(minimumWorkers(plan), plan.units.length),
    async launch(launch: FixedLaunch) {
      let live = true;
      const pairs = new Map<string, [MemoryLink, MemoryLink]>();
      const end = (from: number, to: number, side: 0 | 1): MemoryLink => {
        const key = `${from}>${to}`;
        let pair = pairs.get(key);
        if (!pair) {
          pair = [new MemoryLink(() => live), new MemoryLink(() => live)];
          pair[0].other = pair[1];
          pair[1].other = pair[0];
          pairs.set(key, pair);
        }
        return pair[side];
      };
      if (launch.jobs.length > 1) await checkFreshPEs(launch.jobs[0].source);
      launch.jobs.forEach((job, w) => {
        const hosted = new Set(job.units);
        const transport: FixedTransport = {
          link: (from, to) => end(from, to, hosted.has(from) ? 0 : 1),
          report: (message: WorkerMessage) => {
            const copy = decode<WorkerMessage>(encode(message));
            setImmediate(() => live && launch.deliver(w, copy));
          },
        };
        runFixedWorker(job, transport).catch((error: unknown) => {
          if (live) launch.deliver(w, { type: 'error', error: toWireError(error) });
        });
      });
      return {
        label: (w: number) => `in-memory worker ${w}`,
        stop: async () => {
          live = false;
        },
      };
    },
  };
}

/**
 * Workers in one thread need PE objects of their own: a module that exports one graph
 * object gives the same objects on every import, which workers would then share.
 */
async function checkFreshPEs(source: WorkflowSource): Promise<void> {
  const first = new Set<GenericPE>((await rebuildWorkflow(source)).pes());
  if ((await rebuildWorkflow(source)).pes().some((pe) => first.has(pe))) {
    throw new WorkflowLoadError(
      `the in-memory transport runs every worker in one thread, so each needs PE objects of its own, but ${source.module} exports one graph object; export a factory (args) => graph instead`,
      'D4_WORKFLOW_SHARED_PES',
    );
  }
}

/**
 * `memory`: a fixed mapping on the in-memory transport. For tests of the runtime and of
 * backends (the conformance kit runs on it), not for speed: every item is encoded.
 */
export const memoryMapping: Mapping = {
  name: 'memory',
  description: "fixed distribution on the runtime's in-memory transport (one worker per PE instance, all in the caller's thread): for testing backends and the runtime",
  stateful: true,
  options: [
    { name: 'numProcesses', flags: '-n, --num <n>', description: "processes (PE instances, assigned with dispel4py's formula)", type: 'number' },
    { name: 'partitioned', flags: '--partitioned', description: "partitioned mode: each partition runs sequentially in one worker", type: 'boolean' },
  ],
  run: (workflow, inputs, options) => runFixedJob(memoryBackend(), workflow, inputs, options),
};

/**
 * The in-memory transport of a shared pool: each worker its own host in the caller's
 * thread; commands and replies pass through core's codec on a later turn of the event loop.
 */
const memoryPool: PoolBackend = {
  workerNoun: 'in-memory worker',
  hostsStat: 'hosts',
  hosts: () => Number.MAX_SAFE_INTEGER,
  async launch(launch: PoolLaunch) {
    if (launch.jobs.length > 1) await checkFreshPEs(launch.jobs[0].source);
    let live = true;
    const listeners: Array<(command: PoolCommand) => void> = [];
    launch.jobs.forEach((job, h) => {
      const transport = {
        onCommand: (listener: (command: PoolCommand) => void) => {
          listeners[h] = listener;
        },
        report: (message: WorkerMessage | PoolReply) => {
          const copy = decode<WorkerMessage | PoolReply>(encode(message));
          setImmediate(() => live && launch.deliver(h, copy));
        },
      };
      runPoolWorker(job, transport).catch((error: unknown) => {
        if (live) launch.deliver(h, { type: 'error', error: toWireError(error) });
      });
    });
    return {
      post: (host: number, command: PoolCommand) => {
        const copy = decode<PoolCommand>(encode(command));
        setImmediate(() => live && listeners[host]?.(copy));
      },
      label: (h: number) => `in-memory worker ${h}`,
      stop: async () => {
        live = false;
      },
    };
  },
};

/** `dyn_memory`: the runtime's shared pool on the in-memory transport (stateless PEs only), for tests. */
export const memoryPoolMapping: Mapping = {
  name: 'dyn_memory',
  description: "dynamic distribution on the runtime's in-memory transport (a shared pool of workers in the caller's thread): for testing backends and the runtime",
  stateful: false,
  options: [{ name: 'numProcesses', flags: '-n, --num <n>', description: 'workers taking tasks from the shared queue', type: 'number' }],
  run: (workflow, inputs, options) => runPoolJob(memoryPool, 'dyn_memory', false, workflow, inputs, options),
};
