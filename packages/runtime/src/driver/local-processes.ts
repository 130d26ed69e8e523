import type { ChildProcess } from 'node:child_process';
import { WorkerError } from '@d4/core';

/** A child process that hosts some of a run's local workers. */
export interface LocalProcess<W> {
  workers: W[];
  child: ChildProcess;
  exited: Promise<void>;
  alive: boolean;
}

export interface LocalProcessesSetup<W> {
  /** The worker process's script (built JavaScript). */
  entry: string;
  /** The environment variable that carries each process's configuration (JSON). */
  envName: string;
  /** True once the run is ending: exits from then on are expected. */
  stopped(): boolean;
  fail(error: unknown): void;
  /** A process ended while the run goes on. */
  onExit(local: LocalProcess<W>, code: number | null, signal: NodeJS.Signals | null): void;
}

/**
 * The worker processes a driver starts on its own host, for transports whose workers are
 * processes that may also join from elsewhere (Redis): `workers` spread over `processes`
 * children, round robin, each given its configuration in one environment variable, watched
 * for their exit, and stopped with a grace period, then SIGTERM, then SIGKILL.
 */
export class LocalProcesses<W> {
  readonly processes: LocalProcess<W>[] = [];

  constructor(private readonly setup: LocalProcessesSetup<W>) {}

  /** Starts min(workers, processes) children; `config` is what one child's workers are told. */
  async spawn(workers: readonly W[], processes: number, config: (workers: W[]) => unknown): Promise<void> {
    // Loaded here, not at the top: this module is in the runtime's main entry, which every
    // worker process of a transport loads too (Redis's), and workers never spawn.
    const { spawn } = await import('node:child_process');
    // The run may have stopped meanwhile, and its stop() found nothing to end.
    if (this.setup.stopped()) return;
    const { entry, envName } = this.setup;
    const count = Math.min(workers.length, processes);
    for (let p = 0; p < count; p++) {
      const own = workers.filter((_, i) => i % count === p);
      const child = spawn(process.execPath, [entry], {
        env: { ...process.env, [envName]: JSON.stringify(config(own)) },
        stdio: ['ignore', 'inherit', 'inherit'],
      });
      const local: LocalProcess<W> = { workers: own, child, alive: true, exited: Promise.resolve() };
      local.exited = new Promise<void>((resolve) => {
        child.once('exit', (code, signal) => {
          local.alive = false;
          if (!this.setup.stopped()) this.setup.onExit(local, code, signal);
          resolve();
        });
        child.once('error', (error) => {
          local.alive = false;
          if (!this.setup.stopped()) this.setup.fail(new WorkerError(`cannot start a worker process (${entry}): ${error.message}`, 'D4_WORKER_SPAWN', { cause: error }));
          resolve();
        });
      });
      this.processes.push(local);
    }
  }

  get anyAlive(): boolean {
    return this.processes.some((l) => l.alive);
  }

  /** Ends the processes: a grace period to exit by themselves after a stop, then SIGTERM, then SIGKILL. */
  async stop(graceMs: number): Promise<void> {
    await Promise.all(
      this.processes.map(async (local) => {
        if (!local.alive) return;
        if (graceMs > 0) await Promise.race([local.exited, pause(graceMs)]);
        if (local.alive) local.child.kill('SIGTERM');
        await Promise.race([local.exited, pause(1000)]);
        if (local.alive) local.child.kill('SIGKILL');
        await local.exited;
      }),
    );
  }
}

/** Why a local worker process ended, from its exit status; `lostCode` is the transport's exit code for a lost connection. */
export function exitReason(code: number | null, signal: NodeJS.Signals | null, lostCode: number, lostWhat: string): string {
  if (signal) return `died (${signal})`;
  if (code === lostCode) return `lost its connection to ${lostWhat} and stopped`;
  return `died (exit code ${code})`;
}

/** A pause that does not keep the process alive on its own. */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
