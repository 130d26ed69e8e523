import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { D4Error } from '@d4/core';

// Which mpiexec, by the MPI @d4/mpi was built against, is @d4/mpi's own knowledge (the
// executor's MPI workers need it too).
export { findOnPath, launcherFlavour, requireLauncher, type Launcher, type LauncherFlavour } from '@d4/mpi/launcher';

/**
 * The file every rank runs when d4 starts mpiexec: ./rank.js beside this module in the built
 * package; from the .ts sources (jest), the built dist/rank.js.
 */
export function rankEntry(): string {
  const here = import.meta.url;
  const path = fileURLToPath(here.endsWith('.ts') ? new URL('../../dist/rank.js', here) : new URL('./rank.js', here));
  if (!existsSync(path)) {
    throw new D4Error('D4_NOT_BUILT', `the rank entry ${path} does not exist; build @d4/mapping-mpi first (npx turbo run build --filter @d4/mapping-mpi)`);
  }
  return path;
}
