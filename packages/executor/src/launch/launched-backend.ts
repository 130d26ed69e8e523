import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { frame } from './frames.js';
import { closeListener, openListener, type RankConnection } from './listener.js';
import { mpiImpl, type MpiImpl } from './mpi-build.js';
import { RankResults } from './rank-results.js';
import { workerScript, type WorkerBackend, type WorkerEvents, type WorkerExit, type WorkerHandle, type WorkerSpec } from '../backend.js';

/** How one launcher (srun, mpiexec) starts the ranks of a worker. */
export interface Launcher {
  readonly name: string;
  /**
   * The program and its arguments that start `ranks` copies of `node worker.js` with these
   * resources, for ranks whose @d4/mpi is built against `mpi`, and the variable that tells a
   * started copy its rank.
   */
  command(spec: WorkerSpec, ranks: number, worker: string[], mpi: MpiImpl): LaunchCommand;
}

export interface LaunchCommand {
  file: string;
  args: string[];
  rankVariable: string;
}

export interface LaunchedOptions {
  /** Address the workers connect back to. */
  host: string;
  /** Ranks of a worker with these resources (1 unless its cores are MPI ranks). */
  ranks(spec: WorkerSpec): number;
  /** Whether the ranks initialise MPI before the first task. */
  mpi: boolean;
}

/** How much of the launcher's error output a failure message quotes. */
const STDERR_TAIL = 2000;
let nextKey = 1;

/**
 * Workers started by a launcher program, talking back over the executor's socket. The
 * handle buffers what is sent until every rank has connected, writes each message to every
 * rank, and reports one exit when the launcher ends or a rank goes away.
 */
export function launchedBackend(launcher: Launcher, options: LaunchedOptions): WorkerBackend {
  return {
    name: launcher.name,
    ownProcess: true,
    start(spec, events) {
      return new LaunchedWorker(launcher, options, spec, events);
    },
  };
}

class LaunchedWorker implements WorkerHandle {
  readonly #events: WorkerEvents;
  readonly #size: number;
  readonly #key = `${process.pid}.${nextKey++}`;
  readonly #ranks: (Socket | undefined)[];
  readonly #results: RankResults;
  #connected = 0;
  #outbox: Uint8Array[] = [];
  #child: ChildProcess | undefined;
  #stderrTail = '';
  #referenced = false;
  #stopped = false;
  #exited = false;

  constructor(launcher: Launcher, options: LaunchedOptions, spec: WorkerSpec, events: WorkerEvents) {
    this.#events = events;
    this.#size = options.ranks(spec);
    this.#ranks = new Array(this.#size).fill(undefined);
    this.#results = new RankResults(this.#size, (bytes) => this.#events.message(bytes), (why) => this.#retire(why, true));
    const mpi = options.mpi || this.#size > 1;
    Promise.all([openListener(options.host), mpi ? mpiImpl() : ('openmpi' as const)]).then(
      ([listening, impl]) => {
        if (this.#stopped) return closeListener();
        let launch: LaunchCommand;
        try {
          launch = launcher.command(spec, this.#size, [process.execPath, workerScript()], impl);
        } catch (error) {
          closeListener();
          return this.#exit({ code: null, signal: null, error: error as Error });
        }
        listening.waiting.set(this.#key, (connection) => this.#onRank(connection));
        const env = {
          ...spec.env,
          D4_EXECUTOR_CONNECT: `${listening.host}:${listening.port}`,
          D4_EXECUTOR_TOKEN: listening.token,
          D4_EXECUTOR_KEY: this.#key,
          D4_EXECUTOR_RANK_VAR: launch.rankVariable,
          ...(mpi ? { D4_EXECUTOR_MPI: '1' } : {}),
        };
        this.#spawn(launch.file, launch.args, env, spec.cwd, () => listening.waiting.delete(this.#key));
      },
      (error: Error) => this.#exit({ code: null, signal: null, error }),
    );
  }

  send(bytes: Uint8Array): void {
    if (this.#stopped) return;
    if (this.#connected < this.#size) {
      this.#outbox.push(bytes);
      return;
    }
    const framed = frame(bytes);
    for (const socket of this.#ranks) socket!.write(framed);
  }

  ref(): void {
    this.#referenced = true;
    this.#child?.ref();
    (this.#child?.stderr as Socket | null | undefined)?.ref();
    for (const socket of this.#ranks) socket?.ref();
  }

  unref(): void {
    this.#referenced = false;
    this.#child?.unref();
    (this.#child?.stderr as Socket | null | undefined)?.unref();
    for (const socket of this.#ranks) socket?.unref();
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const socket of this.#ranks) socket?.destroy();
    const child = this.#child;
    if (child && child.exitCode === null && child.signalCode === null) {
      // A rank ends by itself when its connection closes (then srun or mpiexec ends quietly). A
      // rank busy in a task does not see that: SIGTERM, which the launcher passes on to its
      // ranks while it tidies up the step, then SIGKILL.
      const running = () => child.exitCode === null && child.signalCode === null;
      setTimeout(() => {
        if (running()) child.kill('SIGTERM');
        setTimeout(() => running() && child.kill('SIGKILL'), 3000).unref();
      }, 500).unref();
    }
  }

  #spawn(file: string, args: string[], env: Record<string, string>, cwd: string | undefined, forget: () => void): void {
    const child = spawn(file, args, { env, ...(cwd ? { cwd } : {}), stdio: ['ignore', 'inherit', 'pipe'] });
    this.#child = child;
    if (!this.#referenced) this.unref();
    child.stderr!.on('data', (chunk: Buffer) => {
      // What the launcher says while it is stopped on purpose ("Job step aborted") is noise.
      if (!this.#stopped) process.stderr.write(chunk);
      this.#stderrTail = (this.#stderrTail + chunk.toString()).slice(-STDERR_TAIL);
    });
    child.on('error', (error) => {
      forget();
      closeListener();
      this.#exit({ code: null, signal: null, detail: `${file} could not be started (${error.message}); is it installed and on PATH?` });
    });
    child.on('exit', (code, signal) => {
      forget();
      closeListener();
      const said = this.#stderrTail.trim();
      this.#exit({ code, signal, ...(said ? { detail: `${file} said: ${said}` } : {}) });
    });
  }

  #onRank(connection: RankConnection): void {
    const { socket, rank } = connection;
    if (this.#stopped || rank < 0 || rank >= this.#size || this.#ranks[rank]) {
      socket.destroy();
      return;
    }
    this.#ranks[rank] = socket;
    if (!this.#referenced) socket.unref();
    connection.setHandler((bytes) => this.#results.push(rank, bytes));
    socket.on('close', () => {
      if (!this.#stopped) this.#retire(`rank ${rank} of ${this.#size} closed its connection (it exited or died)`, false);
    });
    if (++this.#connected === this.#size) {
      const queued = this.#outbox;
      this.#outbox = [];
      for (const bytes of queued) this.send(bytes);
    }
  }

  /** A rank failed or went away: the others are stopped, and the executor hears one exit. */
  #retire(why: string, afterTaskFailure: boolean): void {
    if (this.#stopped) return;
    this.stop();
    this.#exit({ code: null, signal: null, detail: why, ...(afterTaskFailure ? { afterTaskFailure } : {}) });
  }

  #exit(info: WorkerExit): void {
    if (this.#exited) return;
    this.#exited = true;
    this.#events.exit(info);
  }
}
