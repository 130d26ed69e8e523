import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { D4Error } from '@d4/core';

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

/** mpiexec from PATH, or an error that says what to install. */
export function requireMpiexec(): string {
  const found = findOnPath('mpiexec');
  if (!found) {
    throw new D4Error('D4_MPIEXEC_NOT_FOUND', 'the mpi mapping starts its ranks with mpiexec, which is not on PATH; install Open MPI (Debian/Ubuntu: apt-get install openmpi-bin libopenmpi-dev; macOS: brew install open-mpi) or put its bin folder on PATH');
  }
  return found;
}

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
