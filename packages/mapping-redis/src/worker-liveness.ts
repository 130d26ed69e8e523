import { WorkerError, type D4Error } from '@d4/core';
import type { MemberOptions } from './liveness.js';
import { GROUP, type JobKeys } from './keys.js';
import type { JobMeta } from './meta.js';
import type { MemberKeys } from './liveness-protocol.js';
import { presumedDead } from './outbox.js';
import { jobGone } from './worker-errors.js';

/** Progress reaches the driver at least this often while workers run (RunOptions.progress). */
const PROGRESS_MS = 200;

/** Heartbeats per heartbeat expiry (see joinOptions). */
export const BEATS_PER_EXPIRY = 5;

/** One set of call counters per job in this process, shared by its workers and the heartbeat thread. */
const jobCounts = new Map<string, Int32Array>();

export function progressCounts(job: string, pes: number): Int32Array {
  let counts = jobCounts.get(job);
  if (!counts) jobCounts.set(job, (counts = new Int32Array(new SharedArrayBuffer(4 * pes))));
  return counts;
}

/** The keys of a worker that its heartbeat thread touches. */
export function memberKeys(keys: JobKeys, consumer: string): MemberKeys {
  return { meta: keys.meta, driverAlive: keys.driverAlive, alive: keys.alive(consumer), driver: keys.driver, counters: keys.counters };
}

/**
 * What a worker tells the heartbeat thread when it joins: how to register it (REGISTER's
 * keys and arguments), the leases the driver took for it, the shared stream when it reads
 * one, and how often to beat: a fifth of the heartbeat expiry (so that the key outlives a
 * stall of the server or the machine of up to four fifths of it: at load ~8 a test's Redis
 * answered nothing for ~0.3 s, and a third, 167 of 500 ms, left 106 ms), more often for
 * dyn_auto_redis (the driver reads idle times from the beats) and for live progress.
 */
export function joinOptions(meta: JobMeta, keys: JobKeys, consumer: string, config: { rank?: number; units?: number[] }, calls: Int32Array | undefined): MemberOptions {
  const { tuning, plan } = meta;
  const every = Math.max(50, Math.min(Math.floor(tuning.aliveMs / BEATS_PER_EXPIRY), meta.mapping === 'dyn_auto_redis' ? Math.floor(tuning.idleThreshold / 4) : Infinity, calls ? PROGRESS_MS : Infinity));
  return {
    consumer,
    register: {
      keys: [keys.meta, keys.workers, keys.control(consumer), keys.alive(consumer), keys.rank],
      args: [consumer, GROUP, tuning.aliveMs, config.rank ?? ''],
    },
    leases: (config.units ?? []).map((unit) => ({ unit, key: keys.lease(unit), stream: keys.unit(unit) })),
    shared: plan.pes.some((p) => p.mode === 'shared') ? keys.shared : undefined,
    keys: memberKeys(keys, consumer),
    aliveMs: tuning.aliveMs,
    everyMs: every,
    progress: calls ? { counts: calls.buffer as SharedArrayBuffer, peIds: plan.pes.map((p) => p.id) } : undefined,
  };
}

/** Why the heartbeat thread stopped beating for a worker (its `fatal` codes), as the worker's error. */
export function heartbeatFailure(code: number, job: string, consumer: string, threadError: Error | undefined): D4Error {
  if (code === -1) return jobGone(job);
  if (code === -2) return new WorkerError(`the driver of job ${job} is gone (it stopped renewing its heartbeat); this worker stops`, 'D4_REDIS_DRIVER_GONE');
  if (code === -3) return presumedDead();
  return new WorkerError(`the heartbeat thread of worker ${consumer} failed (${threadError?.message ?? 'unknown error'}); the worker stops`, 'D4_REDIS_HEARTBEAT');
}
