import type { MpiImpl } from '../launch/mpi-build.js';
import { rootArgs } from '../launch/slurm.js';
import type { ProcessTemplate } from './types.js';

/**
 * The bash script each MPI rank runs around its program. mpiexec merges every rank's stdout
 * into its own (a pty per rank under Open MPI, tagged and cut into 4 KB pieces that interleave
 * between ranks with --tag-output), so per-rank streams cannot be taken apart from it. Instead
 * the rank connects back to the group's TCP server (bash's /dev/tcp, so it works from any
 * host): one connection reports the program's pid, host and exit code, and a piped stdout or
 * stderr gets a connection of its own; 'ignore' goes to /dev/null. The program runs as a child
 * so its exit code can be reported; SIGTERM from mpiexec is passed on to it.
 *
 * The rank is Open MPI's, else PMIx's (srun --mpi=pmix), else SLURM's; for MPICH, the
 * PMI_RANK that Hydra and srun --mpi=pmi2 set, else SLURM's.
 */
const BODY = [
  'exec 3<>"/dev/tcp/$host/$port" || exit 97',
  'if [ -n "$fetch" ]; then',
  // srun starts one command for every rank: the rank asks the group for its template's
  // settings and argv, sent back NUL-terminated (out, err, cwd, count, then the argv).
  '  printf "D4PG %s %s spec\\n" "$token" "$rank" >&3',
  "  IFS= read -r -d '' out <&3; IFS= read -r -d '' err <&3; IFS= read -r -d '' dir <&3; IFS= read -r -d '' count <&3",
  "  mapfile -d '' -t -n \"$count\" argv <&3; set -- \"${argv[@]}\"",
  'fi',
  'if [ "$out" = pipe ]; then exec 4<>"/dev/tcp/$host/$port" || exit 97; printf "D4PG %s %s stdout\\n" "$token" "$rank" >&4; exec 1>&4 4>&-; elif [ "$out" = ignore ]; then exec 1>/dev/null; fi',
  'if [ "$err" = pipe ]; then exec 4<>"/dev/tcp/$host/$port" || exit 97; printf "D4PG %s %s stderr\\n" "$token" "$rank" >&4; exec 2>&4 4>&-; elif [ "$err" = ignore ]; then exec 2>/dev/null; fi',
  'cd "$dir" || { printf "D4PG %s %s info 0 %s %s\\nexit 98\\n" "$token" "$rank" "$$" "${HOSTNAME:-localhost}" >&3; exit 98; }',
  '"$@" 3>&- &',
  'child=$!',
  'trap \'kill -TERM "$child" 2>/dev/null\' TERM INT HUP',
  'printf "D4PG %s %s info %s %s %s\\n" "$token" "$rank" "$child" "$$" "${HOSTNAME:-localhost}" >&3',
  'wait "$child"; code=$?',
  'while kill -0 "$child" 2>/dev/null; do wait "$child"; code=$?; done',
  'exec 1>&- 2>&-',
  'printf "exit %s\\n" "$code" >&3',
  'exit "$code"',
];
const RANK: Record<MpiImpl, string> = {
  openmpi: 'rank=${OMPI_COMM_WORLD_RANK:-${PMIX_RANK:-${SLURM_PROCID:-0}}}',
  // Not OMPI_COMM_WORLD_RANK: a Hydra job started from inside an Open MPI rank inherits it.
  mpich: 'rank=${PMI_RANK:-${SLURM_PROCID:-0}}',
};
/** mpiexec (MPMD): each app context carries its template: $1 host, $2 port, $3 token, $4 stdout, $5 stderr, $6 cwd, then argv. */
const script = (mpi: MpiImpl) => ['host=$1; port=$2; token=$3; out=$4; err=$5; dir=$6; fetch=; shift 6', RANK[mpi], ...BODY].join('\n');
/** srun: $1 host, $2 port, $3 token; the rest comes from the group. */
const fetchScript = (mpi: MpiImpl) => ['host=$1; port=$2; token=$3; fetch=1', RANK[mpi], ...BODY].join('\n');

export interface Callback {
  host: string;
  port: number;
  token: string;
}

/**
 * mpiexec's arguments: one app context per template, `-n <nproc> bash -c <wrapper> …`, joined
 * by ':' (the MPMD form both Open MPI and Hydra take). `--allow-run-as-root` (as root) only
 * for Open MPI's: Hydra refuses it and needs nothing to run as root.
 */
export function mpiexecArgv(templates: readonly ProcessTemplate[], callback: Callback, before: readonly string[], mpi: MpiImpl): string[] {
  const argv = [...(mpi === 'openmpi' ? rootArgs(before) : []), ...before];
  templates.forEach((template, index) => {
    if (index > 0) argv.push(':');
    argv.push(
      '-n',
      String(template.nproc ?? 1),
      'bash',
      '-c',
      script(mpi),
      'd4-rank',
      callback.host,
      String(callback.port),
      callback.token,
      template.stdout ?? 'inherit',
      template.stderr ?? 'inherit',
      template.cwd ?? process.cwd(),
      ...programArgv(template),
    );
  });
  return argv;
}

/** The program's argv behind the wrapper: `env` puts the template's variables in its environment only (mpiexec's -x is job-wide). */
function programArgv(template: ProcessTemplate): string[] {
  const env = Object.entries(template.env ?? {}).map(([key, value]) => `${key}=${value}`);
  return ['env', '--', ...env, template.command, ...(template.args ?? [])];
}

/**
 * srun's arguments: one step of every rank, each running the fetching wrapper. The plugin
 * that makes them one world: `--mpi=pmix` for Open MPI (PMI-2 does not work with it here),
 * `--mpi=pmi2` for MPICH (its ranks start as singletons under PMIx; both probed here). A
 * `--mpi` of the user's own in `before` replaces d4's rather than following it, so nothing
 * depends on which of two srun takes.
 */
export function srunArgv(ranks: number, callback: Callback, before: readonly string[], mpi: MpiImpl): string[] {
  const own = before.some((arg) => arg === '--mpi' || arg.startsWith('--mpi='));
  const plugin = own ? [] : [mpi === 'mpich' ? '--mpi=pmi2' : '--mpi=pmix'];
  // --kill-on-bad-exit: one failed rank ends the step, as mpiexec ends the job.
  return [...plugin, `--ntasks=${ranks}`, '--kill-on-bad-exit=1', ...before, 'bash', '-c', fetchScript(mpi), 'd4-rank', callback.host, String(callback.port), callback.token];
}

/** What the fetching wrapper of a rank of `template` reads back: NUL-terminated fields. */
export function rankSpec(template: ProcessTemplate): Buffer {
  const argv = programArgv(template);
  const fields = [template.stdout ?? 'inherit', template.stderr ?? 'inherit', template.cwd ?? process.cwd(), String(argv.length), ...argv];
  return Buffer.from(fields.map((field) => `${field}\0`).join(''), 'utf8');
}
