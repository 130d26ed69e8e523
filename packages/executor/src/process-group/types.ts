/** Where a process's stdout or stderr goes: to the group's line iterables, to this process's own, or nowhere. */
export type StdioMode = 'pipe' | 'inherit' | 'ignore';

/** One kind of process in a group, started `nproc` times (Dragon's ProcessTemplate with a count). */
export interface ProcessTemplate {
  /** How many processes (with `mpi: true`: ranks) of this template. Default 1. */
  nproc?: number;
  command: string;
  args?: readonly string[];
  cwd?: string;
  /** Added to this process's environment. */
  env?: Readonly<Record<string, string>>;
  /** Default 'inherit'. */
  stdout?: StdioMode;
  /** Default 'inherit'. */
  stderr?: StdioMode;
  /**
   * Piped lines as the program wrote them. By default a trailing '\r' and ANSI escape
   * sequences (colour codes) are removed, so a line is its text.
   */
  raw?: boolean;
}

export interface ProcessGroupOptions {
  /**
   * All processes are the ranks of one MPI job, started by one `mpiexec` (MPMD form, one
   * app context per template) or one `srun` step (`--mpi=pmix`, or `pmi2` for MPICH), ranks numbered in the order of
   * `add`. Default false: independent processes.
   */
  mpi?: boolean;
  /** What starts an MPI group: default 'srun' inside a SLURM allocation (SLURM_JOB_ID set), else 'mpiexec'. */
  launcher?: 'mpiexec' | 'srun';
  /** The srun to run. Default 'srun' from PATH. */
  srun?: string;
  /** srun flags before the program, such as ['--overcommit'] or ['--nodes=2']. */
  srunArgs?: readonly string[];
  /** Start a process again when it exits (with `mpi`, the whole job), at most `maxRestarts` times. */
  restart?: boolean;
  /** Default 3. */
  maxRestarts?: number;
  /** ms between SIGTERM and SIGKILL in `stop()`. Default 2000. */
  graceMs?: number;
  /**
   * The MPI the ranks are built with, which decides the launcher's arguments: Open MPI's
   * mpiexec gets `--allow-run-as-root` as root and srun `--mpi=pmix`; MPICH's (Hydra) gets no
   * Open MPI flags and srun `--mpi=pmi2`. Default: the family of `mpiexec` (its name or the
   * file it links to: `mpiexec.mpich`, `mpiexec.hydra` → 'mpich'), else 'openmpi'.
   */
  mpiImpl?: 'openmpi' | 'mpich';
  /** The mpiexec to run. Default 'mpiexec' from PATH. */
  mpiexec?: string;
  /** Arguments for mpiexec before the app contexts, such as ['--oversubscribe']. */
  mpiexecArgs?: readonly string[];
  /**
   * The address ranks connect back to for piped output and their pids: this host as the ranks
   * reach it. Default 127.0.0.1 (ranks on this host); set it for ranks on other hosts.
   */
  callbackHost?: string;
}

/** How a process ended: an exit code, or the signal that killed it. */
export interface ProcessExit {
  readonly rank: number;
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** Something whose end can be awaited: a process of a group, or a whole group (for `multiJoin`). */
export interface Joinable {
  /** Resolves once it has ended for good (after any restarts). */
  ended(): Promise<unknown>;
  readonly done: boolean;
}
