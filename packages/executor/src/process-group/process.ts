import { LineStream } from './lines.js';
import type { Joinable, ProcessExit, ProcessTemplate } from './types.js';

/**
 * One process of a group (with `mpi`, one rank). It stays the same object across restarts:
 * `pid` is the current one, `restarts` counts them, and its `stdout`/`stderr` lines go on
 * from one run to the next and end when the process has ended for good.
 */
export class GroupProcess implements Joinable {
  readonly rank: number;
  /** Index of its template, in the order of `add`. */
  readonly template: number;
  /** Lines of its stdout, where the template pipes it. */
  readonly stdout: AsyncIterable<string> | undefined;
  readonly stderr: AsyncIterable<string> | undefined;
  pid: number | undefined;
  host: string | undefined;
  exitCode: number | null = null;
  signal: NodeJS.Signals | null = null;
  restarts = 0;
  running = false;
  /** @internal the pid of the rank's wrapper shell (mpi), killed with the program. */
  wrapperPid: number | undefined;
  readonly #lines: { stdout?: LineStream; stderr?: LineStream };
  readonly #ended: Promise<ProcessExit>;
  #resolve!: (exit: ProcessExit) => void;
  #done = false;

  constructor(rank: number, templateIndex: number, template: ProcessTemplate) {
    this.rank = rank;
    this.template = templateIndex;
    this.#lines = {
      stdout: template.stdout === 'pipe' ? new LineStream(template.raw) : undefined,
      stderr: template.stderr === 'pipe' ? new LineStream(template.raw) : undefined,
    };
    this.stdout = this.#lines.stdout;
    this.stderr = this.#lines.stderr;
    this.#ended = new Promise((resolve) => (this.#resolve = resolve));
  }

  get done(): boolean {
    return this.#done;
  }

  /** Resolves with its exit code or signal once it has ended for good. */
  ended(): Promise<ProcessExit> {
    return this.#ended;
  }

  /** @internal */
  lines(which: 'stdout' | 'stderr'): LineStream | undefined {
    return this.#lines[which];
  }

  /** @internal */
  markStarted(pid: number | undefined, host: string): void {
    this.pid = pid;
    this.host = host;
    this.running = true;
    this.exitCode = null;
    this.signal = null;
  }

  /** @internal first report wins (the rank's own report comes before mpiexec's exit). */
  markExited(exitCode: number | null, signal: NodeJS.Signals | null): void {
    if (!this.running && (this.exitCode !== null || this.signal !== null)) return;
    this.running = false;
    this.exitCode = exitCode;
    this.signal = signal;
  }

  /** @internal no restart follows. */
  finish(): void {
    if (this.#done) return;
    this.#done = true;
    this.running = false;
    this.#lines.stdout?.close();
    this.#lines.stderr?.close();
    this.#resolve({ rank: this.rank, exitCode: this.exitCode, signal: this.signal });
  }
}
