import type { RunProgress } from '@d4/core';
import type { CliStream } from './io.js';

const CLEAR_LINE = '\r\x1b[K';

/** The text of one progress line: elapsed time, then process() calls per PE in graph order. */
export function progressText(progress: RunProgress, peIds: readonly string[], elapsedMs: number, width: number): string {
  const parts = peIds.map((id) => `${id} ${(progress.calls[id] ?? 0).toLocaleString('en-US')}`);
  const text = `d4 ${(elapsedMs / 1000).toFixed(1)}s  ${parts.join(' · ')}`;
  // One row only: a wrapped line cannot be cleared with \r.
  return text.length > width - 1 ? `${text.slice(0, Math.max(0, width - 2))}…` : text;
}

/**
 * A one-row progress display on a terminal's stderr, for runs that last longer than
 * `delayMs`: redrawn every `intervalMs` from the counters the mapping keeps in
 * RunOptions.progress, and wiped when the run ends. Off when stderr is not a terminal, so
 * logs and pipes stay clean.
 */
export class ProgressLine {
  readonly progress: RunProgress = { calls: {} };
  private readonly started = performance.now();
  private delay?: NodeJS.Timeout;
  private interval?: NodeJS.Timeout;
  private shown = false;

  constructor(
    private readonly stderr: CliStream,
    private readonly peIds: readonly string[],
    private readonly delayMs: number,
    private readonly intervalMs: number,
  ) {}

  start(): this {
    // Whether stderr is a terminal is asked when the line is due, not before: a short run
    // then never loads what the answer takes (node:tty, net and the stream modules).
    this.delay = setTimeout(() => {
      if (!this.stderr.isTTY) return;
      this.draw();
      this.interval = setInterval(() => this.draw(), this.intervalMs);
      this.interval.unref();
    }, this.delayMs);
    this.delay.unref();
    return this;
  }

  /** Writes a line of text (a PE's log) above the progress line. */
  writeAbove(text: string): void {
    if (this.shown) this.stderr.write(CLEAR_LINE);
    this.stderr.write(text);
    if (this.shown) this.draw();
  }

  stop(): void {
    clearTimeout(this.delay);
    clearInterval(this.interval);
    if (this.shown) this.stderr.write(CLEAR_LINE);
    this.shown = false;
  }

  private draw(): void {
    const width = this.stderr.columns && this.stderr.columns > 20 ? this.stderr.columns : 80;
    this.stderr.write(CLEAR_LINE + progressText(this.progress, this.peIds, performance.now() - this.started, width));
    this.shown = true;
  }
}
