import type { Redis } from 'ioredis';
import { D4Error } from '@d4/core';
import { GROUP, jobPattern, type JobKeys } from './keys.js';
import type { JobMeta } from './meta.js';
import { redactUrl, type ParsedOptions } from './options.js';
import type { Plan } from './plan.js';

/**
 * A job's keys over its life: created in one transaction, kept from expiring while the
 * driver lives (every key has an expiry, the safety net for a killed driver), and deleted
 * to the last one when the run ends, the metadata first (every script refuses to write once
 * it is gone, so a late worker cannot re-create a key).
 */

/** Time a local worker has to start and renew the leases taken for it. */
export const BOOT_LEASE_MS = 30_000;

/** Local workers are L0, L1, …: unique within the job, whose id is in every key. */
export function localName(index: number): string {
  return `L${index}`;
}

/**
 * How long workers wait for a silent driver before they give up. Longer than a worker's
 * heartbeat: the driver runs the sources, and one long synchronous call of a source blocks
 * its timers; a driver that was killed leaves its workers this long.
 */
export function driverAliveMs(aliveMs: number): number {
  return Math.max(30_000, 3 * aliveMs);
}

/** The metadata, the driver's heartbeat, counters, groups, and the leases of local workers' units. */
export async function createJob(redis: Redis, keys: JobKeys, meta: JobMeta, plan: Plan, parsed: ParsedOptions): Promise<void> {
  const ttl = parsed.tuning.keyTtlMs;
  const tx = redis.multi();
  tx.set(keys.meta, JSON.stringify(meta), 'PX', ttl);
  tx.set(keys.driverAlive, String(process.pid), 'PX', driverAliveMs(parsed.tuning.aliveMs));
  tx.hset(keys.counters, 'all', 0, 'active', plan.localWorkers);
  tx.set(keys.rank, plan.localWorkers - 1, 'PX', ttl);
  tx.xadd(keys.driver, '*', 'init', '1');
  if (plan.pes.some((p) => p.mode === 'shared')) tx.xgroup('CREATE', keys.shared, GROUP, '$', 'MKSTREAM');
  plan.units.forEach((_, s) => tx.xgroup('CREATE', keys.unit(s), GROUP, '$', 'MKSTREAM'));
  plan.localUnits.forEach((units, i) => {
    for (const s of units) tx.set(keys.lease(s), localName(i), 'PX', BOOT_LEASE_MS);
  });
  for (const [error] of (await tx.exec()) ?? []) {
    if (error) throw new D4Error('D4_REDIS_SETUP', `cannot create job ${keys.job} on Redis at ${redactUrl(parsed.redisUrl)}: ${error.message}`, { cause: error });
  }
  await renewExpiry(redis, keys, ttl);
}

/** The safety net: every key of the job expires unless a live driver keeps renewing it. */
export async function renewExpiry(redis: Redis, keys: JobKeys, ttl: number): Promise<void> {
  for (const key of await jobKeyList(redis, keys)) {
    // Leases and heartbeats have their own short expiry.
    if (key.includes('}:l') || key.includes('}:hb:') || key === keys.driverAlive) continue;
    await redis.pexpire(key, ttl);
  }
}

/** Every key of the job (SCAN to the end, not one page). */
export async function jobKeyList(redis: Redis, keys: JobKeys): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', jobPattern(keys.job), 'COUNT', 1000);
    cursor = next;
    out.push(...batch);
  } while (cursor !== '0');
  return out;
}

/** Deletes the job: the metadata first, then everything else; the expiry removes what fails. */
export async function deleteJob(redis: Redis, keys: JobKeys): Promise<void> {
  try {
    await redis.del(keys.meta);
    const all = await jobKeyList(redis, keys);
    for (let i = 0; i < all.length; i += 500) await redis.unlink(...all.slice(i, i + 500));
  } catch {
    // The expiry removes what could not be deleted now.
  }
}
