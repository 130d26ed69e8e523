import { OptionError, type InputSpec, type RunOptions, type RunResult, type WorkflowInput } from '@d4/core';
import { runFixedJob } from '@d4/runtime';
import { mpiBackend } from './backend.js';
import { closeWorld, stopEveryRank, type World } from './world.js';

/** How long rank 0 leaves for its report to be written before MPI_Abort ends every rank. */
const ABORT_GRACE_MS = 1000;

/**
 * Rank 0 of a run: the driver (and worker 0) of a fixed plan over every rank. Under the
 * user's mpiexec the size is the world's: a `-n` that disagrees is refused, since mpiexec
 * already started the ranks. When d4 launched the world (`launched`), -n is the plan's size
 * and the launcher chose the ranks for it (launch/ranks.ts): units share ranks.
 * On success every rank leaves its loop and finalizes; on failure the error is returned to
 * be reported, and MPI_Abort follows (at exit, or after a grace period), so that a rank busy
 * in a long synchronous PE call is ended too.
 */
export async function driveFromRankZero(world: World, workflow: WorkflowInput, inputs: InputSpec, options: RunOptions, launched = false): Promise<RunResult> {
  let result: RunResult;
  try {
    result = await runFixedJob(mpiBackend(world), workflow, inputs, launched ? options : sizedByWorld(world, options));
  } catch (error) {
    abortSoon(world, 1);
    throw error;
  }
  await stopEveryRank(world);
  await closeWorld(world);
  return result;
}

/** Under the user's mpiexec: the run's size is the world's, and a `-n` or `--processes` that disagrees is refused. */
function sizedByWorld(world: World, options: RunOptions): RunOptions {
  const ranks = options.processes;
  if (ranks !== undefined && ranks !== null && Number(ranks) !== world.size) {
    throw new OptionError(`--processes ${String(ranks)} was given, but mpiexec started ${world.size} ranks; under mpiexec each rank hosts one PE instance: leave --processes out, or start mpiexec with -n ${String(ranks)}`, 'D4_MPI_SIZE');
  }
  const asked = options.numProcesses;
  if (asked !== undefined && asked !== null && Number(asked) !== world.size) {
    throw new OptionError(`-n ${String(asked)} was given, but mpiexec started ${world.size} ranks; under mpiexec the run takes its size from MPI: leave -n out, or start mpiexec with -n ${String(asked)}`, 'D4_MPI_SIZE');
  }
  return { ...options, numProcesses: world.size };
}

/** MPI_Abort once the failure is reported: when the process exits, or after a grace period. */
export function abortSoon(world: World, code: number): void {
  const abort = () => world.comm.abort(code);
  process.once('exit', abort);
  setTimeout(abort, ABORT_GRACE_MS);
}
