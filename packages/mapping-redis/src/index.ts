import { dyn_auto_redis, dyn_redis, hybrid_redis, redis } from './mappings.js';

/** The Redis Streams mappings, by name (core's registry loads them from here). */
export const mappings = { redis, dyn_redis, dyn_auto_redis, hybrid_redis };
export { redis, dyn_redis, dyn_auto_redis, hybrid_redis };
export { runWorker, type WorkerConfig, type WorkerReport } from './worker.js';
export type { JobInfo, RedisRunOptions } from './driver.js';
export { jobKeys, jobPattern } from './keys.js';
export { DEFAULT_REDIS_URL } from './options.js';
