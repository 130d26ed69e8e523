import { encode, WorkerError, type GenericPE, type ValueOrigin, type WorkflowGraph } from '@d4/core';
import { ResultGroups, cappedBatches, routeWrite, writeRoutes, type CommitOutcome, type CommitTransport } from '@d4/runtime';
import { GROUP, type JobKeys } from './keys.js';
import type { Plan } from './plan.js';
import type { Scripts } from './scripts.js';

/** 1-based positions in the commit's KEYS: meta, counters, driver, fence, shared, unit 0, … */
export const SHARED_KEY = 5;
export const unitKey = (unit: number): number => 6 + unit;

/** Values bound for one stream and one target (PE index and input port). */
interface Destination {
  /** 1-based position of the stream in the commit's KEYS. */
  readonly keyIndex: number;
  readonly pe: number;
  /** `<pe index>:<port>`, stored with each entry. */
  readonly target: string;
  values: unknown[];
  origins: ValueOrigin[];
}

/** The acknowledgement of one stream entry: its stream (position in KEYS), its PE (for the counters) and id. */
export interface EntryAck {
  readonly keyIndex: number;
  readonly pe: number;
  readonly id: string;
}

/**
 * Where every write goes, and the batch of everything a worker (or the driver's roots)
 * wrote since the last commit. One commit is one Lua call: outputs, results, logs and
 * acknowledgements together, so a worker killed mid-batch leaves no trace of it (the
 * runtime's CommitTransport: Redis is an at-least-once transport).
 */
export class Outbox implements CommitTransport<EntryAck> {
  /** KEYS of the commit script: meta, counters, driver, fence, shared, unit 0, unit 1, … */
  readonly keys: string[];
  readonly results = new ResultGroups();
  logs: [string, number, string][] = [];
  private readonly dests: Destination[] = [];
  private readonly destIndex = new Map<string, Destination>();
  /** Values written since the last commit. */
  pending = 0;

  constructor(
    private readonly graph: WorkflowGraph,
    private readonly plan: Plan,
    jobKeys: JobKeys,
    private readonly scripts: Scripts,
    private readonly batchSize: number,
    /** A worker's heartbeat key: its commits are refused once it has expired. */
    private readonly fence?: string,
  ) {
    this.keys = [jobKeys.meta, jobKeys.counters, jobKeys.driver, fence ?? jobKeys.meta, jobKeys.shared, ...plan.units.map((_, s) => jobKeys.unit(s))];
  }

  /** The function an instance's engine calls for writes on connected ports (the runtime's routes, exact groupings). */
  writerFor(peIndex: number, sourceIndex: number): (pe: GenericPE, port: string, value: unknown) => void {
    const pes = this.graph.pes();
    const routes = writeRoutes<Destination>(this.graph.peEdges(), pes[peIndex], sourceIndex, (edge) => {
      const to = pes.indexOf(edge.to);
      const planned = this.plan.pes[to];
      const target = `${to}:${edge.toPort}`;
      return planned.mode === 'pinned' ? { instances: planned.units.map((unit) => this.dest(unitKey(unit), to, target)) } : { shared: this.dest(SHARED_KEY, to, target) };
    });
    return (_pe, port, value) => {
      const list = routes.get(port);
      if (!list) return;
      routeWrite(list, value, this.deliver);
    };
  }

  private readonly deliver = (dest: Destination, value: unknown, origin: ValueOrigin): void => {
    dest.values.push(value);
    dest.origins.push(origin);
    this.pending++;
  };

  private dest(keyIndex: number, pe: number, target: string): Destination {
    const key = `${keyIndex}|${target}`;
    let dest = this.destIndex.get(key);
    if (!dest) {
      dest = { keyIndex, pe, target, values: [], origins: [] };
      this.destIndex.set(key, dest);
      this.dests.push(dest);
    }
    return dest;
  }

  /**
   * Writes everything gathered since the last commit and acknowledges `acks`, in one call.
   * `driverFields` are extra entries for the driver stream (replies, stats, errors).
   * Returns the positions (1-based, in `acks`) of entries someone else acknowledged first,
   * and the entries in flight;
   * undefined when the job is over (its keys are gone).
   */
  async commit(acks: readonly EntryAck[] = [], driverFields: readonly [string, string | Uint8Array][] = []): Promise<CommitOutcome | undefined> {
    const args: (string | Uint8Array | number)[] = [GROUP, this.fence ? 1 : 0];
    const outIndex = args.length;
    args.push(0);
    let nOut = 0;
    for (const dest of this.dests) {
      const values = dest.values;
      if (values.length === 0) continue;
      for (let start = 0; start < values.length; start += this.batchSize) {
        const end = Math.min(values.length, start + this.batchSize);
        for (const payload of cappedBatches(values, dest.origins, start, end, MAX_ENTRY_BYTES)) {
          args.push(dest.keyIndex, dest.pe, dest.target, payload);
          nOut++;
        }
      }
      dest.values = [];
      dest.origins = [];
    }
    args[outIndex] = nOut;
    this.pending = 0;
    const fields: [string, string | Uint8Array][] = [];
    if (this.results.size > 0) for (const payload of this.results.take(MAX_ENTRY_BYTES)) fields.push(['r', payload]);
    if (this.logs.length > 0) {
      fields.push(['l', encode(this.logs)]);
      this.logs = [];
    }
    fields.push(...driverFields);
    args.push(fields.length);
    for (const [field, value] of fields) args.push(field, value);
    const groups = ackGroups(acks);
    args.push(groups.length);
    for (const group of groups) args.push(group.keyIndex, group.pe, group.ids.length, ...group.ids);
    if (nOut === 0 && fields.length === 0 && acks.length === 0) return { duplicates: [], inFlight: -1 };
    const [inFlight, ...duplicates] = await this.scripts.commit(this.keys, args);
    if (inFlight === -2) throw presumedDead();
    if (inFlight < 0) return undefined;
    // The script answers positions over the grouped ids: back to positions in `acks`.
    const order = groups.flatMap((g) => g.positions);
    return { duplicates: duplicates.map((p) => order[p - 1]), inFlight };
  }
}

/** Acknowledgements grouped per stream and PE (one XACK, one counter per group), with each id's 1-based position in `acks`. */
function ackGroups(acks: readonly EntryAck[]): { keyIndex: number; pe: number; ids: string[]; positions: number[] }[] {
  const groups = new Map<string, { keyIndex: number; pe: number; ids: string[]; positions: number[] }>();
  acks.forEach((ack, i) => {
    const key = `${ack.keyIndex}|${ack.pe}`;
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { keyIndex: ack.keyIndex, pe: ack.pe, ids: [], positions: [] }));
    group.ids.push(ack.id);
    group.positions.push(i + 1);
  });
  return [...groups.values()];
}

/** Above this size an entry is split in two (large values: keep entries and replies moderate). */
const MAX_ENTRY_BYTES = 8 * 1024 * 1024;

/** A worker silent for longer than its heartbeat expiry was taken for dead (see COMMIT). */
export function presumedDead(): WorkerError {
  return new WorkerError(
    "this worker's process was silent for longer than its heartbeat expiry (frozen: stopped with SIGSTOP, a suspended VM or container, or cut off from Redis), so the job took it for dead and gave its entries to the others; it stops without writing its batch. A busy PE does not cause this (heartbeats come from a thread of their own); if the process is merely slow to be scheduled, raise --claim-idle (the heartbeat expiry follows it)",
    'D4_REDIS_PRESUMED_DEAD',
  );
}
