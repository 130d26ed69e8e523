// A copy of @d4/mpi built against MPICH (D4_MPI=mpich), for tests that need both MPIs.
// The copy sits under this package's build/ (ignored by git), so that node-gyp,
// node-addon-api, tsx and @d4/core resolve from the real package's folders above it, and
// the Open MPI build the other tests use stays as it is. D4_MPI_ADDON=<copy> loads it.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const MPI_PACKAGE_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Builds the copy in build/<name> and returns its folder (remove it with removeMpichBuild). */
export function buildMpichCopy(name: string): string {
  const copy = join(MPI_PACKAGE_ROOT, 'build', name);
  rmSync(copy, { recursive: true, force: true });
  mkdirSync(copy, { recursive: true });
  for (const part of ['binding.gyp', 'native', 'scripts', 'src', 'test/programs']) cpSync(join(MPI_PACKAGE_ROOT, part), join(copy, part), { recursive: true });
  // No name: jest's module map would otherwise see two packages called @d4/mpi.
  writeFileSync(join(copy, 'package.json'), JSON.stringify({ type: 'module', private: true }) + '\n');
  const build = spawnSync(process.execPath, [join(copy, 'scripts', 'build-addon.mjs')], { cwd: copy, env: { ...process.env, D4_MPI: 'mpich' }, encoding: 'utf8', timeout: 300_000 });
  if (build.status !== 0) throw new Error(`building the addon against MPICH failed (exit ${build.status}):\n${build.stderr}`);
  return copy;
}

export function removeMpichBuild(copy: string): void {
  rmSync(copy, { recursive: true, force: true });
}
