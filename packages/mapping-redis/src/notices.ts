import type { Redis } from 'ioredis';
import { GROUP, type JobKeys } from './keys.js';
import type { Plan } from './plan.js';

/**
 * What the driver says on stderr when a worker dies and when another takes over its work.
 * Both are rare, and both change what a run did (items run again, a stateful instance started
 * afresh), so they are said when they happen, also in a run that then succeeds; the figures
 * stay in `stats` (`deadWorkers`, `redelivered`).
 */

/** The exit code of a local worker process that lost (or could not reach) the server (EX_UNAVAILABLE). */
export const EXIT_REDIS_LOST = 69;

/** What a worker sends the driver (field 'k') after it claimed entries of others. */
export interface TakeoverReport {
  by: string;
  /** Entries and items taken, per worker they belonged to. */
  from: Record<string, { entries: number; items: number }>;
  /** The unit taken over, if it was a unit's stream. */
  unit?: number;
}

/** Entries pending for `consumer` in every stream of the job. */
export async function pendingEntries(redis: Redis, keys: JobKeys, plan: Plan, consumer: string): Promise<number> {
  const streams = [...(plan.pes.some((p) => p.mode === 'shared') ? [keys.shared] : []), ...plan.units.map((_, s) => keys.unit(s))];
  const tx = redis.pipeline();
  for (const key of streams) tx.xpending(key, GROUP);
  let n = 0;
  for (const [error, summary] of (await tx.exec()) ?? []) {
    if (error) continue;
    for (const [owner, count] of ((summary as unknown[])[3] as [string, string][] | null) ?? []) if (owner === consumer) n += Number(count);
  }
  return n;
}

export function deathNotice(mapping: string, worker: { consumer: string; pid?: number; units: number[] }, reason: string, pending: number, claimIdleMs: number): string {
  const who = `worker ${worker.consumer}${worker.pid ? ` (pid ${worker.pid})` : ''}`;
  const entries =
    pending > 0
      ? `its ${pending} pending entr${pending === 1 ? 'y' : 'ies'} will be redelivered after --claim-idle (${claimIdleMs} ms)`
      : 'it held no pending entries';
  const units = worker.units.length ? `; its unit${worker.units.length === 1 ? '' : 's'} ${worker.units.join(', ')} go${worker.units.length === 1 ? 'es' : ''} to another worker` : '';
  return `d4 ${mapping}: ${who} ${reason}; ${entries}${units}\n`;
}

export function takeoverNotices(mapping: string, report: TakeoverReport): string {
  let out = '';
  for (const [owner, { entries, items }] of Object.entries(report.from)) {
    const unit = report.unit === undefined ? '' : ` (unit ${report.unit})`;
    out += `d4 ${mapping}: worker ${report.by} took over ${entries} entr${entries === 1 ? 'y' : 'ies'} of ${owner}${unit}, ${items} item${items === 1 ? '' : 's'} to run again\n`;
  }
  return out;
}
