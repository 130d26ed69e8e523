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
      process.exit(130);
    }
    this.ctx.stderr.write('\nd4: interrupted; stopping (press Ctrl-C again to exit at once)\n');
    this.controller.abort('interrupted (SIGINT)');
  }
}
