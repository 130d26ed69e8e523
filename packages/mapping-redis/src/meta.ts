import type { Redis } from 'ioredis';
import { D4Error, type WorkflowSource } from '@d4/core';
import type { JobKeys } from './keys.js';
import type { Plan } from './plan.js';
import type { Tuning } from './options.js';
import { redactUrl } from './options.js';

/** What a joining worker needs to rebuild the graph and take part: stored at `meta`. */
export interface JobMeta {
  /** 2 since the plan names pinned instances units (it said slots). */
  format: 2;
  job: string;
  mapping: Plan['mapping'];
  /** The workflow module, export and JSON arguments: code never crosses, this does. */
  source: WorkflowSource;
  plan: Plan;
  tuning: Tuning;
  /** The driver shows live progress: workers send their call counts with each commit. */
  progress?: boolean;
  /** Where the driver runs, for messages. */
  driver: { host: string; pid: number; started: string };
}

export async function readMeta(redis: Redis, keys: JobKeys, url: string): Promise<JobMeta> {
  const text = await redis.get(keys.meta);
  if (text === null) {
    throw new D4Error('D4_REDIS_NO_JOB', `there is no job ${keys.job} on Redis at ${redactUrl(url)} (it ended, or it runs on another server or database); use the job id and --redis-url the driver printed`);
  }
  const meta = JSON.parse(text) as JobMeta;
  if (meta.format !== 2) throw new D4Error('D4_REDIS_JOB_FORMAT', `job ${keys.job} was started by another version of @d4/mapping-redis (format ${meta.format}); use the same d4 version on every host`);
  return meta;
}
