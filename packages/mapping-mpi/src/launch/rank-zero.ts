import { createConnection } from 'node:net';
import { guardProcessExit, peExitError, rebuildWorkflow, type RunOptions } from '@d4/core';
import { PROGRESS_READ_MS, toWireError } from '@d4/runtime';
import { onRank } from '../rank-transport.js';
import { abortSoon, driveFromRankZero } from '../world-run.js';
import type { World } from '../world.js';
import { RELAY_ENV, RelayChannel, type RelayMessage } from './relay.js';

type Job = Extract<RelayMessage, { type: 'job' }>;

/**
 * Rank 0 of a run d4 launched: fetches the job from the launcher's socket, drives it, and
 * sends back log lines, outputs (when the caller streams them) and the result or the error.
 * On an error, MPI_Abort follows the report, ending every rank (one busy in a long PE call too).
 */
export async function driveForLauncher(world: World, exit: (code: number) => never): Promise<void> {
  const socket = createConnection(process.env[RELAY_ENV]!);
  let jobArrived!: (job: Job) => void;
  const job = new Promise<Job>((resolve) => {
    jobArrived = resolve;
  });
  const relay = new RelayChannel(socket, (message) => {
    if (message.type === 'job') jobArrived(message);
  });
  socket.once('error', (error) => {
    process.stderr.write(`d4: rank 0 cannot reach the launcher at ${process.env[RELAY_ENV]}: ${error.message}\n`);
    world.comm.abort(1);
  });
  const report = (error: unknown) => relay.send({ type: 'error', error: onRank(toWireError(error), world) });
  // A PE on rank 0 that calls process.exit: say which PE and item before the rank ends.
  guardProcessExit((code, call) => report(peExitError(code, call, `rank 0 (pid ${process.pid}, exit code ${code})`)));
  process.on('unhandledRejection', (error) => {
    report(error);
    abortSoon(world, 1);
  });
  const { source, compiled, inputs, options: given, streamOutputs, keepProgress } = await job;
  const progress = keepProgress ? { calls: {} } : undefined;
  const relayProgress = progress && setInterval(() => relay.send({ type: 'progress', calls: progress.calls }), PROGRESS_READ_MS);
  const options: RunOptions = {
    ...given,
    progress,
    log: (peId, instance, message) => relay.send({ type: 'log', peId, instance, message }),
    ...(streamOutputs ? { onOutput: (peId: string, port: string, value: unknown) => relay.send({ type: 'output', peId, port, value }) } : {}),
  };
  try {
    // The launcher compiled a TypeScript workflow already: plain JavaScript loads without tsx.
    const graph = await rebuildWorkflow(compiled);
    // The launcher sized the plan (-n) and the world (its ranks) already: units may share ranks.
    const result = await driveFromRankZero(world, { graph, source }, inputs, options, true);
    clearInterval(relayProgress);
    if (progress) relay.send({ type: 'progress', calls: progress.calls });
    relay.send({ type: 'result', result });
    await relay.end();
    exit(0);
  } catch (error) {
    clearInterval(relayProgress);
    relay.send({ type: 'error', error: toWireError(error) });
    await relay.end();
    world.comm.abort(1);
  }
}
