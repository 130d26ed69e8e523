import { availableParallelism } from 'node:os';
import { asLoadedWorkflow, intOption, minimumProcesses, resolveInputs, type InputSpec, type RunOptions, type WorkflowInput } from '@d4/core';
import { boolOption, instancePlan, minimumWorkers, partitionPlan } from '@d4/runtime';
import { HOST_FLAGS, splitArgs } from './command.js';

/** How big a run d4 launches is: its PE instances (-n) and the ranks mpiexec starts for them. */
export interface LaunchSize {
  /** -n: the plan's size (dispel4py's process assignment), given to rank 0 as numProcesses. */
  size: number;
  /** How many ranks host the plan's units. */
  ranks: number;
}

/**
 * The run's size before any rank exists: -n (else what runFixedJob would choose), and the
 * ranks to start. With `--processes`, that many (at least the most instances of one PE, at
 * most one per unit). Otherwise, on this host alone, as many as its cores (neighbouring
 * units share a rank, as zmq_multi's processes do), and with a hostfile, `--host` or inside
 * SLURM one rank per -n, where the user placed the ranks.
 *
 * Why not one rank per unit everywhere: ranks beyond the cores only take turns on them. On
 * 2 cores, pipeline_test -n 6 with six ranks spent ~1.2 s of CPU on six Node starts and
 * MPI_Inits before any item moved, and its five links were five MPI links whose every
 * batch woke a descheduled rank; on two ranks four of the links are calls inside a rank
 * (packages/mapping-mpi/README.md "Speed").
 */
export function launchSize(workflow: WorkflowInput, inputs: InputSpec, options: RunOptions, env: NodeJS.ProcessEnv = process.env): LaunchSize {
  const graph = asLoadedWorkflow(workflow).graph.flatten().validate();
  const feeds = resolveInputs(graph, inputs);
  const partitioned = boolOption(options, 'partitioned') || boolOption(options, 'simple');
  const cores = availableParallelism();
  const size = intOption(options, 'numProcesses', Math.max(cores, partitioned ? 1 : minimumProcesses(graph)), 1);
  // Refused here, before mpiexec starts: too few processes, a bad partitioning.
  const plan = partitioned ? partitionPlan(graph, size, feeds) : instancePlan(graph, size, feeds);
  const units = plan.units.length;
  const fewest = minimumWorkers(plan);
  if (options.processes !== undefined) return { size, ranks: Math.min(units, Math.max(fewest, intOption(options, 'processes', units, 1))) };
  return { size, ranks: placedByUser(options, env) ? size : Math.min(units, Math.max(fewest, cores)) };
}

/** Whether the ranks go where the user said: a hostfile, mpiexec's host options, a SLURM allocation. */
function placedByUser(options: RunOptions, env: NodeJS.ProcessEnv): boolean {
  if (options.hostfile !== undefined || env.SLURM_JOB_ID !== undefined || env.OMPI_MCA_orte_default_hostfile !== undefined) return true;
  const extra = splitArgs(options.mpiexecArgs === undefined ? '' : String(options.mpiexecArgs));
  return extra.some((a) => HOST_FLAGS.some((flag) => a === flag || a.startsWith(`${flag}=`)));
}
