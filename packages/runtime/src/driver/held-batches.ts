/**
 * The task batches each worker of a dynamic run holds, oldest (the one running) first,
 * with running totals per thread and overall, so the driver's per-message dispatch never
 * sums over workers. The tasks in later batches wait, as they would in dispel4py's one
 * queue, so the autoscaler counts them as queued; otherwise prefetching would hide the
 * backlog it reacts to.
 */
export class HeldBatches {
  private readonly sizes: number[][];
  private readonly perHost: number[];
  private total = 0;
  private waiting = 0;
  private tasks = 0;

  /** `hostOf[worker]` is the host (thread, process) of each worker. */
  constructor(private readonly hostOf: readonly number[]) {
    this.sizes = hostOf.map(() => []);
    this.perHost = new Array<number>(Math.max(0, ...hostOf) + 1).fill(0);
  }

  /** A batch of `tasks` handed to `worker`: it runs at once if the worker holds nothing. */
  give(worker: number, tasks: number): void {
    if (this.sizes[worker].push(tasks) > 1) this.waiting += tasks;
    this.perHost[this.hostOf[worker]]++;
    this.total++;
    this.tasks += tasks;
  }

  /** The worker finished its running batch; its next batch, if any, starts. */
  done(worker: number): void {
    const held = this.sizes[worker];
    this.tasks -= held.shift()!;
    if (held.length > 0) this.waiting -= held[0];
    this.perHost[this.hostOf[worker]]--;
    this.total--;
  }

  count(worker: number): number {
    return this.sizes[worker].length;
  }

  /** Batches held by the workers of one host. */
  inHost(host: number): number {
    return this.perHost[host];
  }

  /** Tasks in batches that no worker has started yet. */
  get waitingTasks(): number {
    return this.waiting;
  }

  /** Tasks in the batches workers are running now, done or not (the driver sees only whole batches end). */
  get runningTasks(): number {
    return this.tasks - this.waiting;
  }

  /** No worker holds a batch. */
  none(): boolean {
    return this.total === 0;
  }
}
