import type { Redis } from 'ioredis';
import { GROUP, type JobKeys } from './keys.js';
import type { DataEntry } from './entries.js';
import { itemCount } from './entries.js';
import type { TakeoverReport } from './notices.js';
import { SHARED_KEY, unitKey, type EntryAck } from './outbox.js';
import type { Tuning } from './options.js';
import type { Plan } from './plan.js';
import { jobGone } from './worker-errors.js';

/** What reclaiming needs of its worker. */
export interface ReclaimingWorker {
  readonly redis: Redis;
  readonly keys: JobKeys;
  readonly consumer: string;
  readonly plan: Plan;
  readonly tuning: Tuning;
  readonly stopping: boolean;
  /** Whether it reads the shared group now (dyn_auto_redis pauses some workers). */
  readonly active: boolean;
  readonly verbose: boolean;
  /** Runs entries as a batch and commits it. */
  runBatch(entries: DataEntry[], redelivered: boolean): Promise<void>;
  commit(acks: EntryAck[], fields: [string, string | Buffer][]): Promise<void>;
  /** Whether it holds the unit. */
  holds(unit: number): boolean;
  /** Takes a free lease through the heartbeat thread (1 taken, 0 held by another, -1 job over). */
  takeLease(unit: number): Promise<number>;
  /** A fresh instance for a unit whose lease it just took; returns its description for messages. */
  hold(unit: number): Promise<string>;
}

/**
 * What a worker does for the work of others that died: it claims the entries pending for
 * longer than --claim-idle on the shared stream (XAUTOCLAIM), takes over units whose lease
 * nobody holds, with what their last holder left pending, and tells the driver whose entries
 * it took (one commit field 'k', said on the driver's stderr).
 */
export class Reclaimer {
  private next = 0;

  constructor(private readonly worker: ReclaimingWorker) {}

  /** Periodic duties (every claim time / 2): claim what dead workers left, take over units nobody holds. */
  async maintain(): Promise<void> {
    const w = this.worker;
    if (Date.now() < this.next || w.stopping) return;
    this.next = Date.now() + Math.max(50, w.tuning.claimIdleMs >> 1);
    if (w.active && w.plan.pes.some((p) => p.mode === 'shared')) {
      try {
        await this.claim(w.keys.shared, SHARED_KEY, w.tuning.claimIdleMs);
      } catch (error) {
        if (/NOGROUP|UNBLOCKED|no such key/i.test((error as Error).message)) throw jobGone(w.keys.job);
        throw error;
      }
    }
    if (w.plan.units.length === 0) return;
    const leases = await w.redis.mget(...w.plan.units.map((_, s) => w.keys.lease(s)));
    for (let s = 0; s < leases.length; s++) {
      if (leases[s] !== null || w.holds(s)) continue;
      const taken = await w.takeLease(s);
      if (taken < 0) throw jobGone(w.keys.job);
      if (taken === 1) {
        await this.takeOver(s);
        break;
      }
    }
  }

  /** A unit whose lease this worker just took: a fresh instance, and what its last holder left pending. */
  private async takeOver(unit: number): Promise<void> {
    const w = this.worker;
    const what = await w.hold(unit);
    if (w.verbose) process.stderr.write(`d4 worker ${w.consumer}: took over unit ${unit} (${what})\n`);
    await this.claim(w.keys.unit(unit), unitKey(unit), 0, unit);
  }

  /**
   * Claims entries idle for `minIdle` ms and runs them, then tells the driver whose they were
   * (XPENDING first: XAUTOCLAIM does not say, and when nothing is idle it is the only call).
   */
  private async claim(key: string, keyIndex: number, minIdle: number, unit?: number): Promise<void> {
    const w = this.worker;
    let cursor = '0-0';
    const report: TakeoverReport = { by: w.consumer, from: {}, unit };
    do {
      const idle = (await w.redis.xpending(key, GROUP, 'IDLE', minIdle, cursor, '+', w.tuning.readCount * 10)) as [string, string, number, number][];
      if (idle.length === 0) break;
      const owners = new Map(idle.map(([id, owner]) => [id, owner]));
      const reply = (await w.redis.callBuffer('XAUTOCLAIM', key, GROUP, w.consumer, minIdle, cursor, 'COUNT', w.tuning.readCount)) as [Buffer, [Buffer, Buffer[] | null][], Buffer[]?];
      cursor = reply[0].toString();
      const entries: DataEntry[] = reply[1].map(([id, fields]) => ({ keyIndex, key, id: id.toString(), fields }));
      // Entries deleted while pending were acknowledged already: nothing to redo.
      const live = entries.filter((e) => e.fields);
      for (const entry of live) {
        const owner = owners.get(entry.id) ?? 'another worker';
        if (owner === w.consumer) continue;
        const taken = (report.from[owner] ??= { entries: 0, items: 0 });
        taken.entries++;
        taken.items += itemCount(entry.fields!);
      }
      if (live.length) await w.runBatch(live, true);
    } while (cursor !== '0-0' && !w.stopping);
    if (Object.keys(report.from).length > 0) await w.commit([], [['k', JSON.stringify(report)]]);
  }
}
