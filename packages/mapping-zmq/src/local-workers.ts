/**
 * The worker processes the driver starts on its own host: their Node flags, their settings
 * (the D4_ZMQ_WORKER environment variable, read by worker-process.ts), and, with
 * `--curve-clients`, a key pair each that the driver adds to its allow-list.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { encode } from '@d4/core';
import { workerExecArgv, type FixedLaunch } from '@d4/runtime';
import type { JobMessage } from './frames.js';
import { memoryOption, type CurveKeyPair } from './options.js';
import type { LocalWorkerStart } from './worker-process.js';
import { workerFile } from './worker-file.js';
import { zeromq } from './zeromq.js';

/** A job carried in the environment stays well under Linux's 128 KB limit for one variable. */
const MAX_JOB_IN_ENV = 64 * 1024;

export interface LocalWorkers {
  /** Worker i's hello token and process, in index order. */
  started: Array<[string, ChildProcess]>;
  /** True when each worker got its job at spawn (index i is the i-th): no JOB message is sent. */
  jobsGiven: boolean;
}

/**
 * Starts `count` workers that connect to `connect` and bind under `bind`. Over ipc:// without
 * CURVE every endpoint is known before any worker starts (`<bind>/<token>`, tokens chosen
 * here), so each worker gets its job at spawn and starts its units as soon as it is up,
 * without waiting for every other worker's hello and the driver's JOB message.
 */
export function startLocalWorkers(launch: FixedLaunch, count: number, connect: string, bind: string, keys: CurveKeyPair | undefined, allowList: Set<string> | undefined, originalModule: string): LocalWorkers {
  const heap = memoryOption(launch.options);
  const { source } = launch.jobs[0];
  const compiled = workerExecArgv(source);
  const execArgv = [...workerNodeArgs(compiled ?? process.execArgv, heap), workerFile()];
  const tokens = Array.from({ length: count }, () => randomBytes(6).toString('hex'));
  const jobs = bind.startsWith('ipc://') && !keys && count === launch.jobs.length ? jobsInEnv(launch, bind, tokens, originalModule) : undefined;
  const started = tokens.map((token, i): [string, ChildProcess] => {
    // With an allow-list each local worker gets a key pair made here, and is on the list.
    const own = allowList ? zeromq().curveKeyPair() : undefined;
    if (own) allowList!.add(own.publicKey);
    // The driver's compiled copy of the workflow, which the worker imports while its sockets are set up.
    const start: LocalWorkerStart = { connect, bind, token, serverKey: keys?.publicKey, connectTimeoutMs: 30_000, keys: own, preload: compiled ? source.module : undefined, job: jobs?.[i] };
    const child = spawn(process.execPath, execArgv, {
      env: { ...process.env, D4_ZMQ_WORKER: JSON.stringify(start) },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    return [token, child];
  });
  return { started, jobsGiven: jobs !== undefined };
}

/**
 * A local worker's Node flags: V8 optimises hot functions on the worker's main thread
 * rather than on background threads, then the driver's own flags (so a user's
 * --concurrent-recompilation, given later, wins) and the heap limit.
 *
 * Why: the driver starts one worker per core, so a worker's background compiler threads
 * have no idle core to run on: they take CPU from the other workers. pipeline_test's run
 * (100 000 items, -n 6, 2 cores) took 650–700 ms of CPU in both workers with them and
 * ~450–540 ms without (README "Speed"); a PE's own hot loop is compiled once either way.
 */
export function workerNodeArgs(inherited: readonly string[], heapMb: number | undefined): string[] {
  return ['--no-concurrent-recompilation', ...inherited, ...(heapMb ? [`--max-old-space-size=${heapMb}`] : [])];
}

/** Each worker's JOB message (core's codec, base64), or undefined when one is too large for the environment. */
function jobsInEnv(launch: FixedLaunch, bind: string, tokens: string[], originalModule: string): string[] | undefined {
  const peers = tokens.map((token) => ({ endpoint: `${bind}/${token}` }));
  const jobs = launch.jobs.map((job, index) => {
    const message: JobMessage = { index, job: { ...job, counters: undefined }, workerOf: launch.workerOf, peers, originalModule };
    return encode(message).toString('base64');
  });
  return jobs.every((job) => job.length <= MAX_JOB_IN_ENV) ? jobs : undefined;
}
