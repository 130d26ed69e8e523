/**
 * The worker processes the driver starts on its own host: their Node flags, their settings
 * (the D4_ZMQ_WORKER environment variable, read by worker-process.ts), and, with
 * `--curve-clients`, a key pair each that the driver adds to its allow-list.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { workerExecArgv, type FixedLaunch } from '@d4/runtime';
import { memoryOption, type CurveKeyPair } from './options.js';
import type { LocalWorkerStart } from './worker-process.js';
import { workerFile } from './worker-file.js';
import { zeromq } from './zeromq.js';

/** Starts `count` workers that connect to `connect` and bind under `bind`; each is returned with the token its hello will carry. */
export function startLocalWorkers(launch: FixedLaunch, count: number, connect: string, bind: string, keys: CurveKeyPair | undefined, allowList: Set<string> | undefined): Array<[string, ChildProcess]> {
  const heap = memoryOption(launch.options);
  const { source } = launch.jobs[0];
  const compiled = workerExecArgv(source);
  const execArgv = [...(compiled ?? process.execArgv), ...(heap ? [`--max-old-space-size=${heap}`] : []), workerFile()];
  return Array.from({ length: count }, () => {
    const token = randomBytes(6).toString('hex');
    // With an allow-list each local worker gets a key pair made here, and is on the list.
    const own = allowList ? zeromq().curveKeyPair() : undefined;
    if (own) allowList!.add(own.publicKey);
    // The driver's compiled copy of the workflow, which the worker imports while it waits for its job.
    const start: LocalWorkerStart = { connect, bind, token, serverKey: keys?.publicKey, connectTimeoutMs: 30_000, keys: own, preload: compiled ? source.module : undefined };
    const child = spawn(process.execPath, execArgv, {
      env: { ...process.env, D4_ZMQ_WORKER: JSON.stringify(start) },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    return [token, child];
  });
}
