import { decode } from '@d4/core';
import type { CommitTransport } from '../../transport.js';
import type { LazyInstances, PEInstance } from './instances.js';

/** One delivery of the transport (a stream entry): values for one input of one instance, and the transport's handle on it. */
export interface InputEntry<Ack> {
  /** The pinned unit it is for; undefined: for this worker's copy of shared PE `peIndex`. */
  readonly unit: number | undefined;
  readonly peIndex: number;
  readonly port: string;
  /** One codec-encoded array of values. */
  readonly payload: Uint8Array;
  readonly ack: Ack;
}

/** Reports that go to the driver inside a commit (the transport's field names and payloads). */
export type CommitReports = readonly [string, string | Uint8Array][];

/** What a worker's batches did, in items (as the run's stats count them). */
export interface BatchFigures {
  items: number;
  entries: number;
  /** Items of entries run again because their first worker was taken for dead. */
  redelivered: number;
  /** Items whose outputs were written twice (someone else acknowledged their entry first). */
  duplicates: number;
}

export interface CommitPointOptions {
  /** Calls per PE index, when the run counts progress in shared memory (a heartbeat thread sends them). */
  readonly calls?: Int32Array;
  /** Told when a batch starts and stops running (what a heartbeat thread reports as busy or idle). */
  readonly running?: (running: boolean) => void;
  /** The error a worker stops with when a commit finds the job over. */
  readonly gone: () => Error;
}

/**
 * The commit point of an at-least-once worker: a batch of entries runs through the
 * instances the factory gives, and what it wrote (buffered by the transport's writer),
 * its acknowledgements and its reports go to `CommitTransport.commit` together once the
 * batch is done, so nothing of a batch exists before its inputs are acknowledged. Entries
 * of a unit this worker no longer holds are left alone (their new holder runs them).
 *
 * A batch's commit is not awaited by `run`: the transport's next read can go out right
 * behind it (on one connection, in order), saving a round trip per batch. `settle()` waits
 * for it, and every commit waits for the one before.
 */
export class CommittedBatches<Ack> {
  readonly figures: BatchFigures = { items: 0, entries: 0, redelivered: 0, duplicates: 0 };
  private pending: Promise<void> | undefined;

  constructor(
    private readonly instances: LazyInstances,
    private readonly transport: CommitTransport<Ack>,
    private readonly options: CommitPointOptions,
  ) {}

  /** Runs `entries` and starts their commit. */
  async run(entries: readonly InputEntry<Ack>[], redelivered: boolean): Promise<void> {
    const acks: Ack[] = [];
    const sizes: number[] = [];
    const { calls, running } = this.options;
    running?.(true);
    try {
      for (const entry of entries) {
        const found = entry.unit === undefined ? this.instances.sharedCopy(entry.peIndex) : this.instances.unit(entry.unit);
        if (!found) continue;
        const instance: PEInstance = found instanceof Promise ? await found : found;
        const values = decode<unknown[]>(entry.payload);
        const { engine, pe } = instance;
        const port = entry.port;
        for (let v = 0; v < values.length; v++) {
          const pending = engine.feed(pe, port === 'input' ? { input: values[v] } : { [port]: values[v] });
          if (calls) Atomics.add(calls, entry.peIndex, 1);
          if (pending !== undefined) await pending;
        }
        this.figures.items += values.length;
        this.figures.entries++;
        if (redelivered) this.figures.redelivered += values.length;
        acks.push(entry.ack);
        sizes.push(values.length);
      }
      this.pending = this.commit(acks, [], sizes);
      this.pending.catch(() => {});
    } finally {
      running?.(false);
    }
  }

  /** Waits for the batch commit in flight, if any (its failure is the worker's failure). */
  async settle(): Promise<void> {
    const pending = this.pending;
    this.pending = undefined;
    if (pending) await pending;
  }

  /** Closing by command: postprocess() of this worker's instances of the PE, then its writes and `reply` in one commit. */
  async close(peIndex: number, reply: CommitReports): Promise<void> {
    await this.instances.close(peIndex);
    await this.commit([], reply);
  }

  /**
   * Commits what was written since the last commit with `acks` and `reports`, after the
   * commit in flight. `sizes`: the items of each acknowledged entry, for the duplicates.
   */
  async commit(acks: readonly Ack[], reports: CommitReports = [], sizes: readonly number[] = []): Promise<void> {
    if (this.pending) await this.settle();
    const outcome = await this.transport.commit(acks, reports);
    if (!outcome) throw this.options.gone();
    for (const position of outcome.duplicates) this.figures.duplicates += sizes[position - 1] ?? 0;
  }
}

/** Where a committed loop's inputs come from: the transport's reads, and commands among them. */
export interface BatchSource<Ack> {
  /** True once the worker is to stop (a stop command, a failure). */
  readonly stopping: boolean;
  /** Starts reading; the loop waits for the last commit before it waits for this. */
  read(): Promise<{ entries: InputEntry<Ack>[]; closes: number[] }>;
  /** What the driver is told, in the same commit, once PE `peIndex` is closed here. */
  closed(peIndex: number): CommitReports;
  /** The transport's own duties between reads (claiming what dead workers left, takeovers). */
  between?(): Promise<void>;
}

/**
 * The loop of an at-least-once worker: read, run the batch, commit; close PEs when the
 * driver says (its close waves), never on an end of stream; stop when told. Ends with every
 * commit settled.
 */
export async function runCommittedLoop<Ack>(source: BatchSource<Ack>, batches: CommittedBatches<Ack>): Promise<void> {
  while (!source.stopping) {
    const read = source.read();
    read.catch(() => {});
    await batches.settle();
    const { entries, closes } = await read;
    if (entries.length) await batches.run(entries, false);
    for (const pe of closes) await batches.close(pe, source.closed(pe));
    await source.between?.();
  }
  await batches.settle();
}
