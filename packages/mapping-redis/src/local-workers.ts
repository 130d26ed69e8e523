import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { WorkerError, type WorkflowSource } from '@d4/core';
import { sleep, type JobContext } from './job-context.js';
import { BOOT_LEASE_MS, localName } from './job-store.js';
import type { LocalProcessConfig, LocalWorker } from './worker-config.js';

/** A child process that hosts some of the local workers. */
export interface LocalProcess {
  workers: LocalWorker[];
  child: ChildProcess;
  exited: Promise<void>;
  alive: boolean;
}

/**
 * The worker processes run() starts on this host: `-n` workers hosted in
 * `processes` child processes (by default one per core, at most one per worker). Each
 * process pays for loading Node, ioredis and the workflow module once; a consumer more in a
 * process costs two connections. A process killed takes its workers with it: their
 * entries are claimed by the others.
 */
export class LocalWorkers {
  readonly processes: LocalProcess[] = [];
  private registered = false;

  constructor(
    private readonly ctx: JobContext,
    /** A process ended while the run goes on (see worker-deaths.ts). */
    private readonly onExit: (local: LocalProcess, code: number | null, signal: NodeJS.Signals | null) => void,
  ) {}

  spawn(localSource: WorkflowSource): void {
    const { plan, parsed, keys, options } = this.ctx;
    const entry = workerEntry();
    const count = Math.min(plan.localWorkers, parsed.processes);
    for (let p = 0; p < count; p++) {
      const workers: LocalWorker[] = [];
      for (let i = p; i < plan.localWorkers; i += count) workers.push({ consumer: localName(i), rank: i, units: plan.localUnits[i] });
      const config: LocalProcessConfig = { redisUrl: parsed.redisUrl, job: keys.job, verbose: options.verbose === true, workers, localSource };
      const child = spawn(process.execPath, [entry], {
        env: { ...process.env, D4_REDIS_WORKER: JSON.stringify(config) },
        stdio: ['ignore', 'inherit', 'inherit'],
      });
      const local: LocalProcess = { workers, child, alive: true, exited: Promise.resolve() };
      local.exited = new Promise<void>((resolve) => {
        child.once('exit', (code, signal) => {
          local.alive = false;
          if (!this.ctx.stopped()) this.onExit(local, code, signal);
          resolve();
        });
        child.once('error', (error) => {
          local.alive = false;
          if (!this.ctx.stopped()) this.ctx.fail(new WorkerError(`cannot start a worker process (${entry}): ${error.message}`, 'D4_WORKER_SPAWN', { cause: error }));
          resolve();
        });
      });
      this.processes.push(local);
    }
  }

  get anyAlive(): boolean {
    return this.processes.some((l) => l.alive);
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
      if (!this.registered) await sleep(10);
    }
  }

  /** Ends the processes: a grace period to exit by themselves after a stop, then SIGTERM, then SIGKILL. */
  async stop(graceMs: number): Promise<void> {
    await Promise.all(
      this.processes.map(async (local) => {
        if (!local.alive) return;
        if (graceMs > 0) await Promise.race([local.exited, sleep(graceMs)]);
        if (local.alive) local.child.kill('SIGTERM');
        await Promise.race([local.exited, sleep(1000)]);
        if (local.alive) local.child.kill('SIGKILL');
        await local.exited;
      }),
    );
  }
}

/** The worker process entry: built JavaScript next to this file (or in dist/ under tests). */
function workerEntry(): string {
  const here = import.meta.url;
  return fileURLToPath(new URL(here.endsWith('.ts') ? '../dist/worker-process.js' : './worker-process.js', here));
}
