import { fileURLToPath } from 'node:url';
import type { WorkflowSource } from '@d4/core';
import { LocalProcesses, pause, type LocalProcess } from '@d4/runtime';
import type { JobContext } from './job-context.js';
import { BOOT_LEASE_MS, localName } from './job-store.js';
import type { LocalProcessConfig, LocalWorker } from './worker-config.js';

export type RedisLocalProcess = LocalProcess<LocalWorker>;

/**
 * The worker processes run() starts on this host (the runtime's LocalProcesses): `-n`
 * workers hosted in `processes` child processes (by default one per core, at most one per
 * worker). Each process pays for loading Node, ioredis and the workflow module once; a
 * consumer more in a process costs two connections. A process killed takes its workers
 * with it: their entries are claimed by the others.
 */
export class LocalWorkers extends LocalProcesses<LocalWorker> {
  private registered = false;

  constructor(
    private readonly ctx: JobContext,
    onExit: (local: RedisLocalProcess, code: number | null, signal: NodeJS.Signals | null) => void,
  ) {
    super({ entry: workerEntry(), envName: 'D4_REDIS_WORKER', stopped: () => ctx.stopped(), fail: (error) => ctx.fail(error), onExit });
  }

  start(localSource: WorkflowSource): Promise<void> {
    const { plan, parsed, keys, options } = this.ctx;
    const workers = plan.localUnits.map((units, i): LocalWorker => ({ consumer: localName(i), rank: i, units }));
    return this.spawn(workers, parsed.processes, (own): LocalProcessConfig => ({ redisUrl: parsed.redisUrl, job: keys.job, verbose: options.verbose === true, workers: own, localSource }));
  }

  /** The local workers with their process ids (for onJob). */
  get pids(): { consumer: string; pid: number }[] {
    return this.processes.flatMap((l) => l.workers.map((c) => ({ consumer: c.consumer, pid: l.child.pid ?? -1 })));
  }

  /**
   * Waits until every local worker has joined (or its process is gone), so that every pinned
   * instance runs its preprocess and postprocess exactly once, as in a fixed mapping, even
   * when a short job ends before a slow worker started. Bounded: a worker that has not
   * joined by the end of its boot lease is given up on (its units go to the others).
   */
  async allRegistered(): Promise<void> {
    const { redis, keys, members } = this.ctx;
    const until = performance.now() + BOOT_LEASE_MS;
    while (!this.registered && !this.ctx.stopped() && performance.now() < until) {
      const joined = new Set(await redis.smembers(keys.workers));
      this.registered = this.processes.every((l) => !l.alive || l.workers.every((c) => joined.has(c.consumer) || members.isDead(c.consumer)));
      if (!this.registered) await pause(10);
    }
  }
}

/** The worker process entry: built JavaScript next to this file (or in dist/ under tests). */
function workerEntry(): string {
  const here = import.meta.url;
  return fileURLToPath(new URL(here.endsWith('.ts') ? '../dist/worker-process.js' : './worker-process.js', here));
}
