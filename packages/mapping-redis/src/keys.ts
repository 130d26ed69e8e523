/**
 * Every key of a job starts with `d4:{<job>}:`. The job id makes runs independent of each
 * other (dispel4py's dyn_redis uses fixed key names, so two runs on one server collide),
 * and the braces are a Redis Cluster hash tag, so all of a job's keys live in one hash slot and
 * the Lua scripts may touch them together.
 */
export interface JobKeys {
  readonly job: string;
  readonly prefix: string;
  /** JSON metadata: mapping, workflow source, plan, tuning. Its absence means "job over". */
  readonly meta: string;
  /** Hash: entries in flight per PE index, 'all', and watch flags `w<pe>`. */
  readonly counters: string;
  /** Stream read by the driver only: results, logs, events, replies, errors. */
  readonly driver: string;
  /** Stream of the shared consumer group (dyn_*, hybrid's stateless PEs). */
  readonly shared: string;
  /** Set of registered worker (consumer) names. */
  readonly workers: string;
  /** Counter that gives joining workers their rank. */
  readonly rank: string;
  /** Present while the driver lives (heartbeat with expiry). */
  readonly driverAlive: string;
  /** Stream of one pinned instance (a unit). */
  unit(index: number): string;
  /** Lease of a unit: the consumer that runs it, with an expiry. */
  lease(index: number): string;
  /** Control stream of one worker. */
  control(consumer: string): string;
  /** A worker's heartbeat (expires when the worker dies). */
  alive(consumer: string): string;
}

export const GROUP = 'd4';

export function jobKeys(job: string): JobKeys {
  const prefix = `d4:{${job}}:`;
  return {
    job,
    prefix,
    meta: `${prefix}meta`,
    counters: `${prefix}n`,
    driver: `${prefix}d`,
    shared: `${prefix}s`,
    workers: `${prefix}workers`,
    rank: `${prefix}rank`,
    driverAlive: `${prefix}driver`,
    unit: (index) => `${prefix}p${index}`,
    lease: (index) => `${prefix}l${index}`,
    control: (consumer) => `${prefix}c:${consumer}`,
    alive: (consumer) => `${prefix}hb:${consumer}`,
  };
}

/** The pattern that matches every key of a job, for cleanup. Braces are glob-escaped. */
export function jobPattern(job: string): string {
  return `d4:\\{${job}\\}:*`;
}
