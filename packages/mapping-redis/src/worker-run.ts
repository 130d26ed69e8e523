/**
 * The body of a worker process (see worker-process.ts, which starts the heartbeat thread first
 * and then imports this module).
 */
import { D4Error, guardProcessExit } from '@d4/core';
import { EXIT_REDIS_LOST } from './notices.js';
import { ReportedError, reportExit, runWorker, type LocalProcessConfig, type WorkerConfig } from './worker.js';

// A PE that calls process.exit() would end this process with only an exit code for the driver
// to see: the PE, its item and the code go to the driver first (at most 2 s). d4's own exits
// below use the real process.exit.
const { exit } = guardProcessExit((code, call) => {
  if (!reportExit(code, call, 2000)) process.stderr.write(`d4 worker: a PE${call ? ` (${call.peId})` : ''} called process.exit(${code}); the worker process ends\n`);
});

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
process.on('SIGTERM', () => exit(143));

const env = process.env.D4_REDIS_WORKER;
try {
  if (env) {
    // The workers run() started on this host, several per process.
    const local = JSON.parse(env) as LocalProcessConfig;
    await Promise.all(local.workers.map((c) => runWorker({ redisUrl: local.redisUrl, job: local.job, verbose: local.verbose, consumer: c.consumer, rank: c.rank, units: c.units, localSource: local.localSource })));
  } else {
    await runWorker(configFromArgs(process.argv.slice(2)));
  }
  exit(0);
} catch (error) {
  // A local worker that started after its (short) job ended has nothing to say.
  if (env && error instanceof D4Error && (error.code === 'D4_REDIS_JOB_GONE' || error.code === 'D4_REDIS_NO_JOB')) exit(0);
  // Stopped because the run failed elsewhere: the driver reports why.
  if (env && error instanceof D4Error && error.code === 'D4_REDIS_JOB_ABORTED') exit(1);
  // A local worker that lost the server says nothing: its driver lost it too and says so, once
  // for the run. Its exit code tells the driver why it ended (see driver.ts, localExit).
  if (env && error instanceof D4Error && (error.code === 'D4_REDIS_LOST' || error.code === 'D4_REDIS_UNREACHABLE')) exit(EXIT_REDIS_LOST);
  // An error the driver already has is printed by the driver; anything else is printed here.
  if (!(error instanceof ReportedError)) {
    const message = (error as Error)?.message ?? String(error);
    process.stderr.write(`d4 worker: ${error instanceof D4Error ? message : `lost Redis or failed unexpectedly: ${message}`}\n`);
  }
  exit(1);
}
