// Finds the system programs d4's tests run for real, and installs them from the system's
// package manager when it can (Debian/Ubuntu apt-get as root or through sudo).
import { spawnSync } from 'node:child_process';

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

/**
 * What the tests run for real: each program, the Debian packages that bring it, and who
 * needs it. Missing ones are installed in one apt-get run.
 */
const NEEDS = [
  { program: 'redis-server', packages: ['redis-server'], why: 'the Redis mappings (packages/mapping-redis) and DDict', other: 'macOS: brew install redis' },
  { program: 'mpiexec', packages: ['openmpi-bin', 'libopenmpi-dev'], why: "@d4/mpi, the mpi mapping, the executor's MPI tasks and ProcessGroup, examples/dragon", other: 'macOS: brew install open-mpi' },
  // examples/dragon and ProcessGroup's tests build a small C MPI program.
  { program: 'mpicc', packages: ['openmpi-bin', 'libopenmpi-dev'], why: 'the C MPI program of examples/dragon and the ProcessGroup tests', other: 'macOS: brew install open-mpi' },
  // @d4/mpi is also built against MPICH and run under its launcher (packages/mpi/test/mpich.test.ts);
  // Debian's alternatives keep Open MPI as mpicc and mpiexec (priority 50 against MPICH's 40).
  { program: 'mpiexec.mpich', packages: ['mpich', 'libmpich-dev'], why: '@d4/mpi built against MPICH', other: 'macOS: brew install mpich (in a separate prefix from Open MPI)' },
  { program: 'mpicc.mpich', packages: ['mpich', 'libmpich-dev'], why: '@d4/mpi built against MPICH', other: 'macOS: brew install mpich (in a separate prefix from Open MPI)' },
  // The executor's SLURM backend and the mpi mapping's srun launch are tested on a slurmctld + slurmd their tests start (packages/executor/test/slurm-cluster.ts).
  { program: 'slurmd', packages: ['slurm-wlm'], why: "the executor's SLURM backend (packages/executor) and the mpi mapping's srun launch (packages/mapping-mpi)", other: 'other systems: install SLURM (slurmctld, slurmd, srun)' },
  { program: 'ip', packages: ['iproute2'], why: 'the two-host tests (network namespaces, @d4/runtime/testing)', other: 'Linux only, as root' },
];

/** Returns undefined when everything is there, else a message saying what to install. */
export function ensureSystemTools() {
  let missing = NEEDS.filter((need) => !has(need.program));
  if (missing.length > 0 && aptInstall([...new Set(missing.flatMap((need) => need.packages))])) missing = missing.filter((need) => !has(need.program));
  if (missing.length === 0) return undefined;
  const lines = missing.map((need) => `${need.program} (Debian/Ubuntu: sudo apt-get install ${need.packages.join(' ')}; ${need.other}), for ${need.why}`);
  return `the tests need programs that could not be installed automatically; install them and run the tests again:\n  ${lines.join('\n  ')}`;
}
