/**
 * The task batches each worker copy of a dynamic run holds, oldest (the one running) first.
 * The tasks in later batches wait, as they would in dispel4py's one queue, so the autoscaler
 * counts them as queued; otherwise prefetching would hide the backlog it reacts to.
 */
export class HeldBatches {
  private readonly sizes: number[][];
  private waiting = 0;

  constructor(workers: number) {
    this.sizes = Array.from({ length: workers }, () => []);
  }

  /** A batch of `tasks` handed to `worker`: it runs at once if the worker holds nothing. */
  give(worker: number, tasks: number): void {
    if (this.sizes[worker].push(tasks) > 1) this.waiting += tasks;
  }

  /** The worker finished its running batch; its next batch, if any, starts. */
  done(worker: number): void {
    const held = this.sizes[worker];
    held.shift();
    if (held.length > 0) this.waiting -= held[0];
  }

  count(worker: number): number {
    return this.sizes[worker].length;
  }

  /** Tasks in batches that no worker has started yet. */
  get waitingTasks(): number {
    return this.waiting;
  }

  /** No worker holds a batch. */
  none(): boolean {
    return this.sizes.every((held) => held.length === 0);
  }
}
