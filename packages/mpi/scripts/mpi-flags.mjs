#!/usr/bin/env node
// Finds the system's MPI and the compiler and linker flags to build against it, from the
// MPI compiler wrapper: Open MPI's `mpicc --showme:compile|link`, MPICH's `mpicc -compile-info
// | -link-info`. D4_MPI=openmpi|mpich picks one when both are installed (default: Open
// MPI, then MPICH); D4_MPICC=/path/to/mpicc names the wrapper itself.
// As a command (binding.gyp runs it): `node mpi-flags.mjs cflags|defines|includes|libs`.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const INSTALL_HINT = 'install an MPI with its development files (Debian/Ubuntu: `apt-get install openmpi-bin libopenmpi-dev`, or `mpich libmpich-dev` for MPICH; macOS: `brew install open-mpi`), then rebuild @d4/mpi (`pnpm --filter @d4/mpi build`)';

let searchEnv = process.env;

function run(command, args) {
  const result = spawnSync(command, args, { encoding: 'utf8', env: searchEnv });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

function words(line) {
  return line.split(/\s+/).filter(Boolean);
}

function openmpi(mpicc) {
  const compile = run(mpicc, ['--showme:compile']);
  const link = run(mpicc, ['--showme:link']);
  if (compile === undefined || link === undefined) return undefined;
  return { impl: 'openmpi', mpicc, compile: words(compile), link: words(link) };
}

function mpich(mpicc) {
  // MPICH prints the whole command line, compiler first.
  const compile = run(mpicc, ['-compile-info']);
  const link = run(mpicc, ['-link-info']);
  if (compile === undefined || link === undefined) return undefined;
  const flags = (line) => words(line).slice(1).filter((w) => /^-(I|D|L|l|Wl,|pthread)/.test(w));
  return { impl: 'mpich', mpicc, compile: flags(compile).filter((w) => /^-(I|D|pthread)/.test(w)), link: flags(link).filter((w) => !/^-(I|D)/.test(w)) };
}

const candidates = {
  openmpi: () => openmpi('mpicc.openmpi') ?? openmpi('mpicc'),
  mpich: () => mpich('mpicc.mpich') ?? mpich('mpicc'),
};

/** The MPI to build against, or `{ missing: reason }` saying what to install. */
export function detectMpi(env = process.env) {
  searchEnv = env; // the wrappers are looked up on env.PATH
  const wanted = env.D4_MPI?.toLowerCase();
  if (wanted && !(wanted in candidates)) return { missing: `D4_MPI=${env.D4_MPI} is neither 'openmpi' nor 'mpich'` };
  if (env.D4_MPICC) {
    const found = wanted === 'mpich' ? mpich(env.D4_MPICC) : wanted === 'openmpi' ? openmpi(env.D4_MPICC) : openmpi(env.D4_MPICC) ?? mpich(env.D4_MPICC);
    return found ?? { missing: `D4_MPICC=${env.D4_MPICC} is not an Open MPI or MPICH compiler wrapper that runs; ${INSTALL_HINT}` };
  }
  const order = wanted ? [wanted] : ['openmpi', 'mpich'];
  for (const name of order) {
    const found = candidates[name]();
    if (found) return found;
  }
  const which = wanted === 'mpich' ? 'MPICH (mpicc.mpich)' : wanted === 'openmpi' ? 'Open MPI (mpicc)' : 'MPI compiler wrapper (mpicc, mpicc.openmpi or mpicc.mpich)';
  return { missing: `no ${which} was found on PATH when @d4/mpi was built; ${INSTALL_HINT}` };
}

export { INSTALL_HINT };

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const mpi = detectMpi();
  if (mpi.missing) {
    console.error(mpi.missing);
    process.exit(1);
  }
  const part = process.argv[2];
  const out = {
    cflags: mpi.compile.filter((w) => !/^-(I|D)/.test(w)),
    defines: mpi.compile.filter((w) => w.startsWith('-D')).map((w) => w.slice(2)),
    includes: mpi.compile.filter((w) => w.startsWith('-I')).map((w) => w.slice(2)),
    libs: mpi.link,
  }[part];
  if (!out) {
    console.error(`usage: mpi-flags.mjs cflags|defines|includes|libs`);
    process.exit(2);
  }
  console.log(out.join(' '));
}
