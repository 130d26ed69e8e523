#!/usr/bin/env node
/**
 * A worker process: started by run() for its local workers (configuration in the
 * D4_REDIS_WORKER environment variable), or by hand to join a job:
 *   node worker-process.js --redis-url redis://host:6379 --job <id> [--mapping dyn_redis] [--verbose]
 * (`d4 worker <mapping> --redis-url … --job <id>` does the same through the CLI.)
 *
 * The heartbeat thread is started before anything heavy is loaded, so that it boots (a Node
 * isolate and one bundled file, liveness-thread.cjs) while this thread loads @d4/core, ioredis
 * and the workflow and connects: the workers register through it (see liveness.ts), and would
 * otherwise wait for its boot.
 */
import { Liveness } from './liveness.js';

const env = process.env.D4_REDIS_WORKER;
const flag = process.argv.indexOf('--redis-url');
const url = env ? (JSON.parse(env) as { redisUrl: string }).redisUrl : flag >= 0 ? process.argv[flag + 1] : process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
// Held for the life of the process (which ends with process.exit); runWorker takes it again.
if (url) Liveness.acquire(url);
await import('./worker-run.js');
