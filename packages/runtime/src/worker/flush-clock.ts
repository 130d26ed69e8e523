/**
 * Decides when a partial batch is old enough to send, without reading the clock after
 * every item (performance.now() per item cost ~8% of a fast pipeline). The clock is read
 * every `every` items, `every` being set at each read from the time items took since the
 * last one: as many as fill an eighth of the flush interval (1 to 256). Items can turn slow
 * at once (a copy of dyn_* going from a source's batch to a slow PE's, an item that awaits):
 * `readNext()` makes the next check read the clock, so a slow PE's output is never held
 * for `every` slow items.
 */
export class FlushClock {
  private every = 1;
  private count = 0;
  private lastRead = 0;

  constructor(private readonly flushMs: number) {}

  /** The next check reads the clock. */
  readNext(): void {
    this.count = this.every - 1;
  }

  /** Waits for an item that returned a promise; such an item may have taken any time. */
  async settle(pending: Promise<unknown>): Promise<void> {
    await pending;
    this.readNext();
  }

  /** True when the oldest buffered item (buffered at `since`, 0 = nothing) waited too long. */
  due(since: number): boolean {
    if (since === 0 || ++this.count < this.every) return false;
    const now = performance.now();
    const perItem = (now - this.lastRead) / this.count;
    this.count = 0;
    this.lastRead = now;
    this.every = perItem > 0 ? Math.max(1, Math.min(256, Math.floor(this.flushMs / 8 / perItem))) : 256;
    return now - since > this.flushMs;
  }
}
