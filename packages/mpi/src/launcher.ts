// Which mpiexec starts ranks of this build of @d4/mpi: shared by the mpi mapping and the
// executor's MPI-parallel workers (`@d4/mpi/launcher`). It loads no addon and no MPI, so a
// driver that only starts mpiexec can import it cheaply.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, realpathSync } from 'node:fs';
import { basename, delimiter, join } from 'node:path';
import { D4Error } from '@d4/core';

export { mpiBuild, type MpiBuild } from './load-addon.js';

/** A program's path from PATH, or undefined. */
export function findOnPath(program: string, path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const file = join(dir, program);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** The two launcher families: their options differ, and each starts only its own MPI's ranks. */
export type LauncherFlavour = 'openmpi' | 'mpich';

export interface Launcher {
  path: string;
  flavour: LauncherFlavour;
}

const CANDIDATES: Record<LauncherFlavour, string[]> = {
  // PATH's own mpiexec first (a cluster's module system puts its MPI there).
  openmpi: ['mpiexec', 'mpiexec.openmpi'],
  mpich: ['mpiexec', 'mpiexec.mpich', 'mpiexec.hydra'],
};

const INSTALL: Record<LauncherFlavour, string> = {
  openmpi: 'install Open MPI (Debian/Ubuntu: apt-get install openmpi-bin libopenmpi-dev; macOS: brew install open-mpi) or put its bin folder on PATH',
  mpich: 'install MPICH (Debian/Ubuntu: apt-get install mpich libmpich-dev) or put its bin folder on PATH, or rebuild @d4/mpi against Open MPI (D4_MPI=openmpi)',
};

/**
 * Which family a launcher is, by the file it resolves to (Debian's mpiexec is a chain of
 * alternatives ending at Open MPI's orterun or MPICH's mpiexec.hydra); undefined when the
 * name does not say (a site's wrapper, a module system's link).
 */
export function launcherFlavour(path: string): LauncherFlavour | undefined {
  let target = path;
  try {
    target = realpathSync(path);
  } catch {
    // a dangling link: the name is all there is
  }
  const name = basename(target);
  if (/orterun|prterun|openmpi/.test(name)) return 'openmpi';
  if (/hydra|mpich/.test(name)) return 'mpich';
  return undefined;
}

/** Whether an mpiexec whose name does not say is Hydra: MPICH's prints "HYDRA build details". */
function saysHydra(path: string): boolean {
  const version = spawnSync(path, ['--version'], { encoding: 'utf8', timeout: 5000, killSignal: 'SIGKILL', stdio: ['ignore', 'pipe', 'pipe'] });
  return /HYDRA/.test(`${version.stdout ?? ''}${version.stderr ?? ''}`);
}

/**
 * The mpiexec of the MPI that @d4/mpi was built against (`mpiBuild()`), from PATH: a rank
 * of an addon built for MPICH cannot join a job Open MPI's mpiexec started, nor the
 * reverse. Without a build record (no addon), Open MPI's, as before. `starter` names who
 * starts the ranks, in the error when none is found.
 */
export function requireLauncher(impl: LauncherFlavour | undefined, path = process.env.PATH ?? '', starter = 'the mpi mapping'): Launcher {
  const wanted = impl ?? 'openmpi';
  const seen: string[] = [];
  for (const program of CANDIDATES[wanted]) {
    const found = findOnPath(program, path);
    if (!found) continue;
    // A name that says nothing is taken for Open MPI's, as it always was, and for MPICH's
    // only when it says it is Hydra (asked only then: an unknown program may not answer).
    const flavour = launcherFlavour(found) ?? (wanted === 'mpich' && saysHydra(found) ? 'mpich' : wanted === 'openmpi' ? 'openmpi' : undefined);
    if (flavour === wanted) return { path: found, flavour };
    seen.push(`${found} (${flavour === undefined ? 'not Hydra' : flavour === 'mpich' ? 'MPICH' : 'Open MPI'})`);
  }
  const which = wanted === 'mpich' ? 'MPICH' : 'Open MPI';
  const found = seen.length > 0 ? `; found only ${seen.join(', ')}` : '';
  throw new D4Error(
    'D4_MPIEXEC_NOT_FOUND',
    `${starter} starts its ranks with ${which}'s mpiexec (@d4/mpi was built against ${which}), which is not on PATH${found}; ${INSTALL[wanted]}`,
  );
}
