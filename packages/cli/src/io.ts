import { createRequire } from 'node:module';

/** Where the CLI writes. The real streams in `d4`, string buffers in tests. */
export interface CliStream {
  write(chunk: string): unknown;
  /** Set on a terminal: the progress line is drawn only there. */
  isTTY?: boolean;
  /** Terminal width, to keep the progress line on one row. */
  columns?: number;
}

export interface RunCliOptions {
  stdout?: CliStream;
  stderr?: CliStream;
  /** Where workflow paths, -f files and mapping packages are resolved from. Default: process.cwd(). */
  cwd?: string;
  /** Aborts `d4 run` / `d4 worker` from outside (tests, embedding hosts). */
  signal?: AbortSignal;
  /**
   * Installs a SIGINT handler while a run or worker goes: the first Ctrl-C aborts it (exit
   * 130), a second one exits at once. The `d4` binary turns this on; in-process callers
   * usually leave it off so that they keep their own handlers.
   */
  handleSigint?: boolean;
  /** The progress line appears once a run has lasted this long (ms). Default 1000. */
  progressDelayMs?: number;
  /** How often the progress line is redrawn (ms). Default 250 (about 4×/s). */
  progressIntervalMs?: number;
}

/** The resolved context every command works with. */
export interface CliContext {
  stdout: CliStream;
  stderr: CliStream;
  cwd: string;
  signal?: AbortSignal;
  handleSigint: boolean;
  progressDelayMs: number;
  progressIntervalMs: number;
}

export function cliContext(options: RunCliOptions = {}): CliContext {
  return {
    stdout: options.stdout ?? process.stdout,
    stderr: options.stderr ?? process.stderr,
    cwd: options.cwd ?? process.cwd(),
    signal: options.signal,
    handleSigint: options.handleSigint ?? false,
    progressDelayMs: options.progressDelayMs ?? 1000,
    progressIntervalMs: options.progressIntervalMs ?? 250,
  };
}

/**
 * process.stdout or process.stderr, made on the first write. Node builds those stream
 * objects (and loads its stream modules for them) the first time either is read, and a
 * warm `d4 run … --results none` writes nothing: that was ~4 % of its CPU. `isTTY` asks the
 * descriptor itself. `onCreate` sees the stream when it is made (the binary's EPIPE rule).
 */
export class LazyStdio implements CliStream {
  private stream: NodeJS.WriteStream | undefined;
  private tty: boolean | undefined;

  constructor(
    private readonly fd: 1 | 2,
    private readonly onCreate?: (stream: NodeJS.WriteStream) => void,
  ) {}

  /** The stream, if anything was written. */
  get created(): NodeJS.WriteStream | undefined {
    return this.stream;
  }

  write(chunk: string): boolean {
    return this.real().write(chunk);
  }

  get isTTY(): boolean {
    // node:tty loads net and the stream modules: only asked for by a run that lasts, once
    // (the progress line asks at every redraw).
    if (this.tty === undefined) {
      const { isatty } = createRequire(import.meta.url)('node:tty') as typeof import('node:tty');
      this.tty = isatty(this.fd);
    }
    return this.tty;
  }

  get columns(): number | undefined {
    return this.isTTY ? this.real().columns : undefined;
  }

  private real(): NodeJS.WriteStream {
    if (!this.stream) {
      this.stream = this.fd === 1 ? process.stdout : process.stderr;
      this.onCreate?.(this.stream);
    }
    return this.stream;
  }
}
