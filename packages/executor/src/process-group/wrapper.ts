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
 * $1 host, $2 port, $3 token, $4 stdout mode, $5 stderr mode, $6 cwd, then the program's argv.
 * The rank is Open MPI's, else PMIx's (srun --mpi=pmix), else SLURM's.
 */
const SCRIPT = [
  'host=$1; port=$2; token=$3; out=$4; err=$5; dir=$6; shift 6',
  'rank=${OMPI_COMM_WORLD_RANK:-${PMIX_RANK:-${SLURM_PROCID:-0}}}',
  'exec 3<>"/dev/tcp/$host/$port" || exit 97',
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
].join('\n');

export interface Callback {
  host: string;
  port: number;
  token: string;
}

/** mpiexec's arguments: one app context per template, `-n <nproc> bash -c <wrapper> …`, joined by ':'. */
export function mpiexecArgv(templates: readonly ProcessTemplate[], callback: Callback, before: readonly string[]): string[] {
  const argv = [...before];
  templates.forEach((template, index) => {
    if (index > 0) argv.push(':');
    const env = Object.entries(template.env ?? {}).map(([key, value]) => `${key}=${value}`);
    argv.push(
      '-n',
      String(template.nproc ?? 1),
      'bash',
      '-c',
      SCRIPT,
      'd4-rank',
      callback.host,
      String(callback.port),
      callback.token,
      template.stdout ?? 'inherit',
      template.stderr ?? 'inherit',
      template.cwd ?? process.cwd(),
      // `env` puts the template's variables in the program's environment only (mpiexec's -x is job-wide).
      'env',
      '--',
      ...env,
      template.command,
      ...(template.args ?? []),
    );
  });
  return argv;
}
