import { execFileSync } from 'node:child_process';
import { type InputSpec, type Mapping, type RunOptions, type RunResult, type WorkflowInput } from '@d4/core';
import { findOnPath } from './launch/find-program.js';
import { launchRun } from './launch/launcher.js';
import { startedByMpiLauncher } from './mpi-api.js';
import { serveOtherRank } from './serve-rank.js';
import { driveFromRankZero } from './world-run.js';
import { openWorld } from './world.js';

// The real process.exit, taken before the CLI guards it against PEs.
const exitProcess = process.exit.bind(process);

/** What `d4 list` says about MPI on this machine: found (and which), or what to install. */
export function mpiStatus(): string {
  const mpiexec = findOnPath('mpiexec');
  if (!mpiexec) return 'MPI not found: mpiexec is not on PATH (Debian: apt-get install openmpi-bin libopenmpi-dev)';
  let version = '';
  try {
    version = execFileSync(mpiexec, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).split('\n')[0].trim();
  } catch {
    // Some launchers print their version elsewhere: the path is enough.
  }
  return `MPI found: ${mpiexec}${version ? ` (${version})` : ''}`;
}

/**
 * Under mpiexec (`mpiexec -n 6 d4 run mpi wf.ts`): every rank calls run(). Rank 0 drives and
 * returns the result; every other rank serves its units, then ends its process when the run
 * is over (as a dispel4py rank does), so that only rank 0 prints anything.
 */
async function runInWorld(workflow: WorkflowInput, inputs: InputSpec, options: RunOptions): Promise<RunResult> {
  // Ranks' stdout is a pty under mpiexec: a PE's console.log would come out in colour codes.
  process.env.NO_COLOR ??= '1';
  const world = await openWorld();
  if (world.rank === 0) return driveFromRankZero(world, workflow, inputs, options);
  await serveOtherRank(world);
  return exitProcess(0);
}

let description: string | undefined;

export const mpiMapping: Mapping = {
  name: 'mpi',
  get description(): string {
    description ??= `fixed distribution over MPI: dispel4py's process assignment, links between ranks as MPI messages; d4 starts mpiexec itself (one rank per PE instance, or --processes ranks that instances share), or runs under mpiexec/srun with one rank per PE instance (or partition, --partitioned), taking the size from MPI. ${mpiStatus()}`;
    return description;
  },
  stateful: true,
  options: [
    { name: 'numProcesses', flags: '-n, --num <n>', description: "PE instances (assigned with dispel4py's formula); default: max(CPU cores, what the graph needs); under mpiexec: the world's size, one rank each", type: 'number' },
    { name: 'processes', flags: '--processes <n>', description: "ranks d4 starts for them, neighbouring instances sharing a rank (default: one per instance; fewer, e.g. the CPU cores, start faster on a small machine); under mpiexec: the world's size", type: 'number' },
    { name: 'partitioned', flags: '-s, --partitioned', description: "partitioned mode: each partition (the graph's partitions, else sources | the rest) runs sequentially on one rank", type: 'boolean' },
    { name: 'simple', flags: '--simple', description: "dispel4py's name for --partitioned", type: 'boolean' },
    { name: 'hostfile', flags: '--hostfile <file>', description: "mpiexec's hostfile: the hosts the ranks run on", type: 'string' },
    { name: 'mpiexecArgs', flags: '--mpiexec-args <args>', description: 'more arguments for mpiexec (or srun), as one string, e.g. "--mca btl tcp,self"', type: 'string' },
  ],
  run(workflow: WorkflowInput, inputs: InputSpec = {}, options: RunOptions = {}): Promise<RunResult> {
    return startedByMpiLauncher() ? runInWorld(workflow, inputs, options) : launchRun(workflow, inputs, options);
  },
};
