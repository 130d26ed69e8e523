/**
 * Which MPI the ranks' @d4/mpi was built against, and that MPI's mpiexec, from
 * `@d4/mpi/launcher` (which loads no addon). Ranks of an MPICH build cannot join a job of
 * Open MPI's mpiexec or of `srun --mpi=pmix`: each would start as a world of its own.
 * Where @d4/mpi is not installed, Open MPI's, as before (the ranks then say what to install).
 */
export type MpiImpl = 'openmpi' | 'mpich';

interface LauncherModule {
  mpiBuild(): { impl: MpiImpl | undefined };
  requireLauncher(impl: MpiImpl, path?: string, starter?: string): { path: string };
  launcherFlavour(path: string): MpiImpl | undefined;
  findOnPath(program: string, path?: string): string | undefined;
}

let loading: Promise<LauncherModule | undefined> | undefined;
let loaded: LauncherModule | undefined;

/** `@d4/mpi/launcher`, or undefined where @d4/mpi is not installed (imported once per process). */
export async function launcherModule(): Promise<LauncherModule | undefined> {
  loading ??= (async () => {
    try {
      const name = '@d4/mpi/launcher'; // a variable: @d4/mpi is optional
      loaded = (await import(name)) as LauncherModule;
      return loaded;
    } catch {
      return undefined;
    }
  })();
  return loading;
}

/** The MPI of @d4/mpi's build (read once per process). */
export async function mpiImpl(): Promise<MpiImpl> {
  return (await launcherModule())?.mpiBuild().impl ?? 'openmpi';
}

let mpichPath: string | undefined;

/**
 * MPICH's mpiexec (Hydra) from PATH, or a D4_MPIEXEC_NOT_FOUND error naming what to install.
 * Looked up once per process, not at each worker's start (the lookup scans PATH and may ask
 * an unnamed mpiexec for its --version).
 */
export function mpichLauncher(): string {
  if (!loaded) throw new Error('mpichLauncher() before mpiImpl() found an MPICH build');
  mpichPath ??= loaded.requireLauncher('mpich', undefined, "the executor's MPI-parallel worker").path;
  return mpichPath;
}
