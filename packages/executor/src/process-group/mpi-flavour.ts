import { D4Error } from '@d4/core';
import { launcherModule, type MpiImpl } from '../launch/mpi-build.js';
import type { ProcessGroupOptions } from './types.js';

export const MPI_IMPLS: readonly MpiImpl[] = ['openmpi', 'mpich'];

/**
 * Open MPI flags that MPICH's mpiexec (Hydra) refuses ("unrecognized argument"): Hydra runs
 * any number of ranks on a host and runs as root without being told.
 */
const OPENMPI_ONLY = ['--allow-run-as-root', '--oversubscribe'];

/**
 * The MPI a group's ranks belong to, which decides the launcher's arguments and the variable
 * a rank reads its number from: the `mpiImpl` option, else the family of the mpiexec the
 * group names (`mpiexec` option, or PATH's `mpiexec`: Debian's is a chain of links to
 * orterun or mpiexec.hydra), else Open MPI's, as before. Under srun the mpiexec is not run,
 * but it still says which MPI the programs were built with on a machine or cluster module
 * that has one. Without @d4/mpi installed (which knows the launchers' names), only the option
 * says MPICH.
 */
export async function groupMpi(options: ProcessGroupOptions): Promise<MpiImpl> {
  if (options.mpiImpl !== undefined) return options.mpiImpl;
  const launcher = await launcherModule();
  if (!launcher) return 'openmpi';
  const mpiexec = options.mpiexec ?? 'mpiexec';
  const path = mpiexec.includes('/') ? mpiexec : (launcher.findOnPath(mpiexec) ?? mpiexec);
  return launcher.launcherFlavour(path) ?? 'openmpi';
}

/** The `mpiImpl` option's value, refused with D4_PROCESS_GROUP when it names no MPI d4 knows. */
export function checkMpiImpl(value: unknown): void {
  if (value !== undefined && !MPI_IMPLS.includes(value as MpiImpl)) {
    throw new D4Error('D4_PROCESS_GROUP', `ProcessGroup option mpiImpl must be ${MPI_IMPLS.map((v) => `'${v}'`).join(' or ')}, got ${JSON.stringify(value)}`);
  }
}

/** Refuses, before anything starts, an Open MPI flag in mpiexecArgs for MPICH's mpiexec, which would only fail there. */
export function checkMpichArgs(mpiexec: string, args: readonly string[]): void {
  const bad = args.filter((arg) => OPENMPI_ONLY.includes(arg.replace(/^-+/, '--')));
  if (bad.length > 0) {
    throw new D4Error(
      'D4_PROCESS_GROUP',
      `ProcessGroup option mpiexecArgs has ${bad.join(', ')}, which only Open MPI's mpiexec knows; this group's mpiexec (${mpiexec}) is MPICH's, which runs any number of ranks and runs as root without it: leave ${bad.length > 1 ? 'them' : 'it'} out (or set mpiImpl: 'openmpi' if ${mpiexec} is Open MPI's)`,
    );
  }
}
