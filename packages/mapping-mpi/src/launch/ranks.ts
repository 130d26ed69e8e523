import { availableParallelism } from 'node:os';
import { asLoadedWorkflow, intOption, minimumProcesses, resolveInputs, type InputSpec, type RunOptions, type WorkflowInput } from '@d4/core';
import { boolOption, instancePlan, minimumWorkers, partitionPlan } from '@d4/runtime';

/** How big a run d4 launches is: its PE instances (-n) and the ranks mpiexec starts for them. */
export interface LaunchSize {
  /** -n: the plan's size (dispel4py's process assignment), given to rank 0 as numProcesses. */
  size: number;
  /** How many ranks host the plan's units. */
  ranks: number;
}

/**
 * The run's size before any rank exists: -n (else what runFixedJob would choose), and the
 * ranks to start: one per -n, as issue 13 and dispel4py's `mpiexec -n N … -n N` have it;
 * with `--processes`, that many (at least the most instances of one PE, at most one per
 * unit), neighbouring units sharing a rank as zmq_multi's processes do.
 *
 * Why offer fewer: ranks beyond the cores only take turns on them. On 2 cores,
 * pipeline_test -n 6 with six ranks spent ~1.2 s of CPU on six Node starts and MPI_Inits
 * before any item moved, and its five links were five MPI links whose every batch woke a
 * descheduled rank; on two ranks four of the links are calls inside a rank
 * (packages/mapping-mpi/README.md "Speed").
 */
export function launchSize(workflow: WorkflowInput, inputs: InputSpec, options: RunOptions): LaunchSize {
  const graph = asLoadedWorkflow(workflow).graph.flatten().validate();
  const feeds = resolveInputs(graph, inputs);
  const partitioned = boolOption(options, 'partitioned') || boolOption(options, 'simple');
  const size = intOption(options, 'numProcesses', Math.max(availableParallelism(), partitioned ? 1 : minimumProcesses(graph)), 1);
  // Refused here, before mpiexec starts: too few processes, a bad partitioning.
  const plan = partitioned ? partitionPlan(graph, size, feeds) : instancePlan(graph, size, feeds);
  const units = plan.units.length;
  if (options.processes === undefined) return { size, ranks: size };
  return { size, ranks: Math.min(units, Math.max(minimumWorkers(plan), intOption(options, 'processes', units, 1))) };
}
