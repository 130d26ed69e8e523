import type { CliContext } from './io.js';

/**
 * The abort signal of one run or worker: aborted by the caller's signal, or by Ctrl-C when
 * the CLI handles SIGINT (the first one asks the mapping to stop its workers; a second one
 * exits at once, for a mapping that does not stop).
 */
export class Interrupt {
  private readonly controller = new AbortController();
  private readonly onSigint = () => this.sigint();
  private readonly onOuterAbort = () => this.controller.abort(this.outer?.reason);
  private sigints = 0;
  /** The real process.exit: `d4 run` wraps it during a run to name a PE that calls it. */
  private readonly exit = process.exit.bind(process);

  constructor(
    private readonly ctx: CliContext,
    private readonly outer = ctx.signal,
  ) {
    if (outer?.aborted) this.controller.abort(outer.reason);
    outer?.addEventListener('abort', this.onOuterAbort, { once: true });
    if (ctx.handleSigint) process.on('SIGINT', this.onSigint);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get aborted(): boolean {
    return this.controller.signal.aborted;
  }

  dispose(): void {
    this.outer?.removeEventListener('abort', this.onOuterAbort);
    process.off('SIGINT', this.onSigint);
  }

  private sigint(): void {
    this.sigints += 1;
    if (this.sigints > 1) {
      this.ctx.stderr.write('\nd4: interrupted again; exiting now\n');
      this.exit(130);
    }
    this.ctx.stderr.write('\nd4: interrupted; stopping (press Ctrl-C again to exit at once)\n');
    this.controller.abort('interrupted (SIGINT)');
  }
}
