/**
 * Entry of every rank when d4 starts mpiexec itself (`d4 run mpi wf.ts -n 6` outside
 * mpiexec). Rank 0 fetches the job from the launcher's socket and drives the run; every
 * other rank serves its units. Any error reaches the launcher as the run's error.
 */
import { createConnection } from 'node:net';
import { guardProcessExit, peExitError, rebuildWorkflow, type RunOptions } from '@d4/core';
import { toWireError } from '@d4/runtime/worker';
import { RELAY_ENV, RelayChannel, type RelayMessage } from './launch/relay.js';
import { onRank } from './rank-transport.js';
import { abortSoon, driveFromRankZero, serveOtherRank } from './world-run.js';
import { openWorld } from './world.js';

const exit = process.exit.bind(process);
const world = await openWorld();

if (world.rank !== 0) {
  process.on('unhandledRejection', (error) => {
    process.stderr.write(`d4: rank ${world.rank}: ${(error as Error)?.stack ?? String(error)}\n`);
    world.comm.abort(1);
  });
  await serveOtherRank(world);
  exit(0);
} else {
  const socket = createConnection(process.env[RELAY_ENV]!);
  let jobArrived!: (job: Extract<RelayMessage, { type: 'job' }>) => void;
  const job = new Promise<Extract<RelayMessage, { type: 'job' }>>((resolve) => {
    jobArrived = resolve;
  });
  const relay = new RelayChannel(socket, (message) => {
    if (message.type === 'job') jobArrived(message);
  });
  socket.once('error', (error) => {
    process.stderr.write(`d4: rank 0 cannot reach the launcher at ${process.env[RELAY_ENV]}: ${error.message}\n`);
    world.comm.abort(1);
  });
  const report = (error: unknown) => {
    relay.send({ type: 'error', error: onRank(toWireError(error), world) });
  };
  // A PE on rank 0 that calls process.exit: say which PE and item before the rank ends.
  guardProcessExit((code, call) => report(peExitError(code, call, `rank 0 (pid ${process.pid}, exit code ${code})`)));
  process.on('unhandledRejection', (error) => {
    report(error);
    abortSoon(world, 1);
  });
  const { source, inputs, options: given, streamOutputs } = await job;
  const options: RunOptions = {
    ...given,
    log: (peId, instance, message) => relay.send({ type: 'log', peId, instance, message }),
    ...(streamOutputs ? { onOutput: (peId: string, port: string, value: unknown) => relay.send({ type: 'output', peId, port, value }) } : {}),
  };
  try {
    const graph = await rebuildWorkflow(source);
    const result = await driveFromRankZero(world, { graph, source }, inputs, options);
    relay.send({ type: 'result', result });
    await relay.end();
    exit(0);
  } catch (error) {
    // The launcher hears first; then MPI_Abort ends every rank, one busy in a long PE call too.
    relay.send({ type: 'error', error: toWireError(error) });
    await relay.end();
    world.comm.abort(1);
  }
}
