#!/usr/bin/env node
/**
 * A worker process: started by run() for its local workers (configuration in the
 * D4_REDIS_WORKER environment variable), or by hand to join a job:
 *   node worker-process.js --redis-url redis://host:6379 --job <id> [--mapping dyn_redis] [--verbose]
 * (`d4 worker <mapping> --redis-url … --job <id>` does the same through the CLI.)
 */
import { D4Error } from '@d4/core';
import { ReportedError, runWorker, type LocalProcessConfig, type WorkerConfig } from './worker.js';

function configFromArgs(argv: string[]): WorkerConfig {
  const value = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const job = value('--job');
  if (!job) throw new D4Error('D4_OPTION', 'a worker needs the job to join: --job <id> (the driver prints it when the run starts)');
  return { redisUrl: value('--redis-url') ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', job, mapping: value('--mapping'), verbose: argv.includes('--verbose') };
}

// The driver stops its workers with SIGTERM when a run fails: leave at once.
process.on('SIGTERM', () => process.exit(143));

const env = process.env.D4_REDIS_WORKER;
try {
  if (env) {
    // The workers run() started on this host, several per process.
    const local = JSON.parse(env) as LocalProcessConfig;
    await Promise.all(local.consumers.map((c) => runWorker({ redisUrl: local.redisUrl, job: local.job, verbose: local.verbose, consumer: c.consumer, rank: c.rank, slots: c.slots, localSource: local.localSource })));
  } else {
    await runWorker(configFromArgs(process.argv.slice(2)));
  }
  process.exit(0);
} catch (error) {
  // A local worker that started after its (short) job ended has nothing to say.
  if (env && error instanceof D4Error && (error.code === 'D4_REDIS_JOB_GONE' || error.code === 'D4_REDIS_NO_JOB')) process.exit(0);
  // Stopped because the run failed elsewhere: the driver reports why.
  if (env && error instanceof D4Error && error.code === 'D4_REDIS_JOB_ABORTED') process.exit(1);
  // An error the driver already has is printed by the driver; anything else is printed here.
  if (!(error instanceof ReportedError)) {
    const message = (error as Error)?.message ?? String(error);
    process.stderr.write(`d4 worker: ${error instanceof D4Error ? message : `lost Redis or failed unexpectedly: ${message}`}\n`);
  }
  process.exit(1);
}
