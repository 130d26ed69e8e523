import { availableParallelism } from 'node:os';
import { OptionError, intOption, type MappingOption, type RunOptions } from '@d4/core';

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** Options shared by the four mappings (the CLI reads flags and env from these). */
export const commonOptions: MappingOption[] = [
  { name: 'numProcesses', flags: '-n, --num <n>', description: 'local worker processes to start (fixed: PE instances)', type: 'number' },
  { name: 'redisUrl', flags: '--redis-url <url>', description: 'Redis server (password, database and rediss:// TLS in the URL)', type: 'string', default: DEFAULT_REDIS_URL, env: 'REDIS_URL' },
  { name: 'processes', flags: '--procs <n>', description: 'child processes that host the local workers (default: one per core, at most -n)', type: 'number' },
  { name: 'batchSize', flags: '--batch <n>', description: 'items per stream entry', type: 'number', default: 100 },
  { name: 'claimIdleMs', flags: '--claim-idle <ms>', description: 'idle time after which a dead worker\'s entries are claimed (XAUTOCLAIM)', type: 'number', default: 5000 },
  { name: 'job', flags: '--job <id>', description: 'd4 worker: the job to join (the driver prints it); d4 run: a job id of your choosing instead of a random one', type: 'string' },
  { name: 'waitSeconds', flags: '--wait <s>', description: 'd4 worker: seconds to wait for the job to start (for workers started before the driver)', type: 'number', default: 0 },
];

export const autoOptions: MappingOption[] = [
  ...commonOptions,
  { name: 'idleThreshold', flags: '--thr <ms>', description: 'idle milliseconds after which one active worker is paused (dispel4py -thr)', type: 'number', default: 1000 },
];

/** Tuning shared by the driver and every worker (stored in the job's metadata). */
export interface Tuning {
  batchSize: number;
  /** Stream entries per XREADGROUP and stream. */
  readCount: number;
  claimIdleMs: number;
  /** Heartbeat expiry: a worker silent this long is dead (and fenced). */
  aliveMs: number;
  idleThreshold: number;
  /** Safety-net expiry of every key, renewed while the driver lives. */
  keyTtlMs: number;
}

export interface ParsedOptions {
  numProcesses: number;
  processes: number;
  redisUrl: string;
  tuning: Tuning;
}

export function parseOptions(options: RunOptions, defaultProcesses = Math.max(2, availableParallelism())): ParsedOptions {
  const batchSize = intOption(options, 'batchSize', 100);
  const claimIdleMs = intOption(options, 'claimIdleMs', 5000, 50);
  const tuning: Tuning = {
    batchSize,
    readCount: intOption(options, 'readCount', 8),
    claimIdleMs,
    // Shorter than the claim time: a worker whose thread is blocked is fenced (its commits
    // refused) before anyone can claim its entries, so its late commit cannot duplicate them.
    aliveMs: intOption(options, 'aliveMs', Math.max(300, Math.floor(claimIdleMs / 2)), 300),
    idleThreshold: intOption(options, 'idleThreshold', 1000, 10),
    keyTtlMs: intOption(options, 'keyTtlMs', 10 * 60_000, 10_000),
  };
  return {
    numProcesses: intOption(options, 'numProcesses', defaultProcesses),
    processes: intOption(options, 'processes', availableParallelism()),
    redisUrl: redisUrlOption(options),
    tuning,
  };
}

export function redisUrlOption(options: Record<string, unknown>): string {
  const value = options.redisUrl ?? process.env.REDIS_URL ?? DEFAULT_REDIS_URL;
  if (typeof value !== 'string' || !/^rediss?:\/\//.test(value)) {
    throw new OptionError(`option redisUrl (--redis-url, REDIS_URL) must be a redis:// or rediss:// URL such as ${DEFAULT_REDIS_URL}, got ${JSON.stringify(value)}`, 'D4_REDIS_URL');
  }
  try {
    new URL(value);
  } catch {
    throw new OptionError(`option redisUrl (--redis-url, REDIS_URL) is not a valid URL: ${JSON.stringify(redactUrl(value))}`, 'D4_REDIS_URL');
  }
  return value;
}

/** The URL with its password hidden, for messages and the printed join command. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '****';
    return parsed.toString();
  } catch {
    return url.replace(/:[^:@/]*@/, ':****@');
  }
}

/** A job id chosen by the user (`--job`): it becomes part of every key. */
export function jobIdOption(options: Record<string, unknown>): string | undefined {
  const job = options.job;
  if (job === undefined || job === null || job === '') return undefined;
  if (typeof job !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(job)) {
    throw new OptionError(`option job (--job) must be 1 to 64 letters, digits, '.', '_' or '-', got ${JSON.stringify(job)}`, 'D4_REDIS_JOB_OPTION');
  }
  return job;
}
