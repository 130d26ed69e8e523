// Finds and loads the compiled addon (build/Release/d4_mpi.node), in the manner of
// zeromq.js's loader: a path resolved from this module, each candidate tried in turn, and an
// error that says why none loaded. The build records what it found in build/d4-mpi.json, so
// that a machine without MPI is told what to install instead of "module not found".
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MpiError, makeAddonError } from './errors.js';
import type { NativeAddon } from './native.js';

const INSTALL = 'install MPI with its development files (Debian/Ubuntu: `apt-get install openmpi-bin libopenmpi-dev`; MPICH: `apt-get install mpich libmpich-dev` and D4_MPI=mpich), then rebuild @d4/mpi (`pnpm --filter @d4/mpi build`, or reinstall it)';

/** The package's folder: this file is in src/ (tests) or dist/ (built). */
export const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

interface BuildRecord {
  missing?: string;
  impl?: string;
  mpicc?: string;
}

/** The MPI the addon was built against (from the build's record), without loading it. */
export interface MpiBuild {
  /** 'openmpi' or 'mpich'; undefined when the addon was not built (see `missing`). */
  impl: 'openmpi' | 'mpich' | undefined;
  /** The compiler wrapper whose flags it was built with. */
  mpicc: string | undefined;
  /** Why it was not built, when it was not. */
  missing: string | undefined;
}

/**
 * Which MPI @d4/mpi was built against, so that a launcher can pick the same
 * implementation's mpiexec (Open MPI's and MPICH's take different options, and ranks of one
 * cannot join the other's job). The environment variable D4_MPI_ADDON (a built package folder) points elsewhere.
 */
export function mpiBuild(root: string = addonRoot()): MpiBuild {
  const record = readRecord(root);
  const impl = record?.impl === 'openmpi' || record?.impl === 'mpich' ? record.impl : undefined;
  return { impl, mpicc: record?.mpicc, missing: record?.missing ?? (impl ? undefined : 'the addon was never built') };
}

/**
 * Where the addon is looked for: this package, or the package folder named by
 * D4_MPI_ADDON (another build of @d4/mpi, e.g. one made with D4_MPI=mpich beside the
 * default Open MPI one; its build/ holds the addon and its record).
 */
export function addonRoot(): string {
  return process.env.D4_MPI_ADDON || PACKAGE_ROOT;
}

function readRecord(root: string): BuildRecord | undefined {
  try {
    return JSON.parse(readFileSync(join(root, 'build', 'd4-mpi.json'), 'utf8')) as BuildRecord;
  } catch {
    return undefined;
  }
}

/** Loads the addon under `root`, or throws a D4_MPI_MISSING error that says what to do. */
export function loadAddon(root: string = addonRoot()): NativeAddon {
  const record = readRecord(root);
  const candidates = ['Release', 'Debug'].map((config) => join(root, 'build', config, 'd4_mpi.node'));
  const present = candidates.filter((path) => existsSync(path));
  if (present.length === 0) {
    const why = record?.missing ?? `its addon was never built (no ${candidates[0]})`;
    throw new MpiError('D4_MPI_MISSING', `@d4/mpi cannot be used: ${why}${record?.missing ? '' : `; ${INSTALL}`}`);
  }
  // UCX (MPICH's ch4 device here, Open MPI's pml ucx on InfiniBand clusters) patches
  // mmap/munmap to watch memory for its registration cache, and V8's threads map and unmap
  // all the time: under MPICH 4.0 with UCX 1.13, 2 runs in 24 of test/programs/p2p.ts died
  // of SIGSEGV inside V8 with its hooks on, none in 48 with them off. UCX reads this when
  // its libraries load, with the addon: so before it. A user who sets it keeps their value.
  process.env.UCX_MEM_EVENTS ??= 'no';
  const require = createRequire(import.meta.url);
  const failures: string[] = [];
  for (const path of present) {
    try {
      const addon = require(path) as NativeAddon;
      addon.configure(makeAddonError);
      return addon;
    } catch (error) {
      const message = (error as Error).message;
      failures.push(message.includes(path) ? message : `${path}: ${message}`);
    }
  }
  // Typically libmpi.so is gone or another MPI replaced the one it was built against.
  throw new MpiError('D4_MPI_MISSING', `@d4/mpi's addon (built against ${record?.impl ?? 'an MPI'}) cannot be loaded: ${failures.join('; ')}; ${INSTALL}`);
}

let loaded: NativeAddon | undefined;

/** The addon, loaded on first use: importing @d4/mpi never fails, using it may. */
export function addon(): NativeAddon {
  return (loaded ??= loadAddon());
}
