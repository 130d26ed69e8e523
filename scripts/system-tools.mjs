// Finds the system programs d4's tests run for real, and installs them from the system's
// package manager when it can (Debian/Ubuntu apt-get as root or through sudo).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const has = (program) => spawnSync('sh', ['-c', `command -v ${program}`], { stdio: 'ignore' }).status === 0;

function aptInstall(packages) {
  if (!has('apt-get')) return false;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const prefix = isRoot ? [] : has('sudo') && spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0 ? ['sudo', '-n'] : null;
  if (!prefix) return false;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const exec = (args) => {
    const [cmd, ...rest] = [...prefix, ...args];
    return spawnSync(cmd, rest, { stdio: 'inherit', env }).status === 0;
  };
  console.error(`test: installing ${packages.join(', ')} with apt-get`);
  return exec(['apt-get', 'update', '-qq']) && exec(['apt-get', 'install', '-y', '-qq', '--no-install-recommends', ...packages]);
}

/** Returns undefined when everything is there, else a message saying what to install. */
export function ensureSystemTools(root) {
  const needs = [{ program: 'redis-server', packages: ['redis-server'], why: 'the Redis mappings (packages/mapping-redis)', other: 'macOS: brew install redis' }];
  // The executor's SLURM backend is tested on a slurmctld + slurmd its tests start (packages/executor/test/slurm-cluster.ts).
  needs.push({ program: 'slurmd', packages: ['slurm-wlm'], why: "the executor's SLURM backend (packages/executor)", other: 'other systems: install SLURM (slurmctld, slurmd, srun)' });
  if (existsSync(join(root, 'packages', 'mpi'))) {
    needs.push({ program: 'mpiexec', packages: ['openmpi-bin', 'libopenmpi-dev'], why: 'the MPI bindings and mapping (packages/mpi, packages/mapping-mpi)', other: 'macOS: brew install open-mpi' });
  }
  // ProcessGroup's MPI groups (packages/executor) and examples/dragon build a C MPI program and run it.
  for (const program of ['mpiexec', 'mpicc']) {
    needs.push({ program, packages: ['openmpi-bin', 'libopenmpi-dev'], why: "ProcessGroup's MPI groups (packages/executor) and examples/dragon", other: 'macOS: brew install open-mpi' });
  }
  for (const need of needs) {
    if (has(need.program)) continue;
    if (aptInstall(need.packages) && has(need.program)) continue;
    return `${need.program} is needed by the tests of ${need.why} and could not be installed automatically; install it (Debian/Ubuntu: sudo apt-get install ${need.packages.join(' ')}; ${need.other}) and run the tests again`;
  }
  return undefined;
}
