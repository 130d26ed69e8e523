#!/usr/bin/env node
// Builds the addon (build/Release/d4_mpi.node) against the system's MPI with node-gyp, and
// records what it found in build/d4-mpi.json, which src/load-addon.ts reads to explain a
// missing addon. Without MPI it records why and exits 0, so that the workspace (and any
// project depending on @d4/mpi) still installs; using @d4/mpi then fails with a D4Error
// that says what to install. A compile error with MPI and the tools present fails loudly.
// It is the package's install script (an explicit one, so that pnpm and npm do not run
// their implicit `node-gyp rebuild` for a binding.gyp, which fails without MPI); build
// runs it too, a no-op when up to date. So does the test script, so that MPI installed
// after `pnpm install` (as the root test command does) gets the addon built before tests.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { detectMpi } from './mpi-flags.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const buildDir = join(root, 'build');
const record = join(buildDir, 'd4-mpi.json');
const addon = join(buildDir, 'Release', 'd4_mpi.node');
const write = (data) => {
  mkdirSync(buildDir, { recursive: true });
  writeFileSync(record, JSON.stringify(data, null, 2) + '\n');
};

const mpi = detectMpi();
if (mpi.missing) {
  write({ missing: mpi.missing });
  console.warn(`@d4/mpi: not built: ${mpi.missing}`);
  process.exit(0);
}

// The tools node-gyp needs; without them the addon cannot be built either, which is a
// missing system package like MPI itself, not a failure of the workspace's install.
const has = (program) => spawnSync('sh', ['-c', `command -v ${program}`], { stdio: 'ignore' }).status === 0;
const tools = [['c++', 'g++'], ['make'], ['python3', 'python']].filter((names) => !names.some(has)).map((names) => names[0]);
if (tools.length > 0) {
  const why = `MPI (${mpi.impl}) is installed but ${tools.join(', ')} ${tools.length === 1 ? 'is' : 'are'} not, so the addon cannot be built; install them (Debian/Ubuntu: \`apt-get install build-essential python3\`), then rebuild @d4/mpi (\`pnpm --filter @d4/mpi build\`)`;
  write({ missing: why });
  console.warn(`@d4/mpi: not built: ${why}`);
  process.exit(0);
}

// Up to date when the addon is newer than every source and was built for the same MPI.
function newestSource() {
  const files = ['binding.gyp', 'scripts/mpi-flags.mjs', 'scripts/build-addon.mjs', ...readdirSync(join(root, 'native')).map((f) => `native/${f}`)];
  return Math.max(...files.map((f) => statSync(join(root, f)).mtimeMs));
}
function previous() {
  try {
    return JSON.parse(readFileSync(record, 'utf8'));
  } catch {
    return undefined;
  }
}
const before = previous();
if (existsSync(addon) && statSync(addon).mtimeMs > newestSource() && before?.impl === mpi.impl && before?.mpicc === mpi.mpicc && before?.node === process.versions.modules) {
  process.exit(0);
}

// node-gyp downloads Node's headers unless told where they are: a Node installed with
// its headers (Debian's nodejs, nodesource, the official tarballs) has them beside it.
const prefix = dirname(dirname(process.execPath));
const nodedir = existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? [`--nodedir=${prefix}`] : [];
const nodeGyp = createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js');
const jobs = process.env.JOBS ?? '2';
const result = spawnSync(process.execPath, [nodeGyp, 'rebuild', '--loglevel=error', ...nodedir, `--jobs=${jobs}`], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, D4_MPI: mpi.impl, D4_MPICC: mpi.mpicc } });
if (result.status !== 0) {
  console.error(`@d4/mpi: building the addon against ${mpi.impl} (${mpi.mpicc}) failed; see above. A C++17 compiler, make and python3 are needed (Debian: apt-get install build-essential python3)`);
  process.exit(1);
}
write({ impl: mpi.impl, mpicc: mpi.mpicc, node: process.versions.modules });
