import type { D4Error } from '@d4/core';
import { abortError } from '@d4/core/internal';

/**
 * Fail once, abort everything: the first failure of a run (a PE error a worker reports, a
 * worker that dies, an abort signal) rejects `failed` and stops the workers; later ones are
 * the same failure seen again and are dropped. Every backend's driver runs its job inside
 * `run`, which always stops the workers, whether the job ended, failed or was aborted.
 */
export class RunControl {
  /** Rejects with the first failure; never resolves. */
  readonly failed: Promise<never>;
  private rejectFailed!: (error: D4Error) => void;
  private stopping = false;
  private readonly onAbort: (() => void) | undefined;

  constructor(
    private readonly stopWorkers: () => Promise<void>,
    private readonly signal?: AbortSignal,
  ) {
    this.failed = new Promise<never>((_, reject) => {
      this.rejectFailed = reject;
    });
    this.failed.catch(() => {}); // observed by whoever races it; never an unhandled rejection
    if (signal) {
      this.onAbort = () => this.fail(abortError(signal));
      if (signal.aborted) this.onAbort();
      else signal.addEventListener('abort', this.onAbort, { once: true });
    }
  }

  /** True once the run is stopping: messages and exits from then on are expected. */
  get stopped(): boolean {
    return this.stopping;
  }

  fail(error: D4Error): void {
    if (this.stopping) return;
    this.rejectFailed(error);
    void this.stop();
  }

  /**
   * Stops every worker. Called again after a late launch (workers started while the run was
   * already failing) it stops those too: a backend's stop must be idempotent.
   */
  stop(): Promise<void> {
    if (this.onAbort) this.signal?.removeEventListener('abort', this.onAbort);
    this.stopping = true;
    return this.stopWorkers();
  }

  /** Runs `body` until it settles or the run fails, whichever comes first; always stops the workers. */
  async run<T>(body: Promise<T>): Promise<T> {
    try {
      return await Promise.race([body, this.failed]);
    } finally {
      await this.stop();
    }
  }
}
