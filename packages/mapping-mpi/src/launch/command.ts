import { OptionError } from '@d4/core';

/** What starts the ranks: a program, its arguments, and the environment it gets. */
export interface LaunchCommand {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
}

export interface LaunchSettings {
  size: number;
  /** The rank program: node, its flags, the rank entry. */
  program: string[];
  /** mpiexec's path (from PATH). */
  mpiexec: string;
  /** Whose mpiexec it is (default Open MPI): MPICH's (Hydra) takes other options. */
  flavour?: 'openmpi' | 'mpich';
  hostfile?: string;
  /** `--mpiexec-args`, as the user typed them (split like a shell would). */
  extraArgs?: string;
  cores: number;
  isRoot: boolean;
  env: NodeJS.ProcessEnv;
}

/** Variables that describe one process or one host, never passed on to ranks elsewhere. */
const LOCAL_ONLY = /^(OMPI_|PMIX_|PMI_|OPAL_|PRTE_|HYDRA_|SLURM_|BASH_FUNC_)|^(_|PWD|OLDPWD|SHLVL|HOSTNAME|TERM)$/;

/** mpiexec's options that place ranks on other hosts. */
export const HOST_FLAGS = ['--host', '-host', '-H', '--hostfile', '-hostfile', '--machinefile', '-machinefile', '--default-hostfile'];

/** Whether `--mpiexec-args` sets the MCA parameter `name` (`--mca name value`, `-mca`, `--gmca`). */
function mcaGiven(extra: readonly string[], name: string): boolean {
  return extra.some((a, i) => (a === '--mca' || a === '-mca' || a === '--gmca' || a === '-gmca') && extra[i + 1] === name);
}

/**
 * The command line that starts the run's ranks. With MPICH, its own mpiexec (below). Inside a SLURM allocation, `srun --mpi=pmix`
 * (with Open MPI here PMIx works and PMI-2 does not; srun passes the environment on by
 * itself). Elsewhere `mpiexec -n N`, with what d4 users should not have to type:
 * --oversubscribe beyond the cores, --allow-run-as-root as root, --bind-to none (a Node
 * rank has several threads, and Open MPI's default pins each rank to one core, which
 * stacks ranks of two "hosts" on one machine on core 0), and the environment passed on
 * with -x (mpiexec gives remote ranks only what -x names).
 *
 * When every rank runs on this host (no hostfile, no --host), Open MPI's point-to-point
 * layer is set to ob1 (OMPI_MCA_pml, unless the user chose one): it is what Open MPI picks
 * on one host anyway, after first starting UCX and libfabric (pml ucx, pml cm with mtl ofi)
 * in every rank only for them to decline. MPI_Init + MPI_Finalize of six C ranks on
 * 2 cores (load 5-9): 0.55-0.65 s wall without, 0.30-0.48 s with; of six Node ranks with
 * @d4/mpi (load ~7): 2.48-2.54 s without, 1.55-1.90 s with. Across hosts the choice stays
 * Open MPI's (an InfiniBand cluster wants UCX).
 */
export function launchCommand(settings: LaunchSettings): LaunchCommand {
  const extra = splitArgs(settings.extraArgs ?? '');
  const env = { ...settings.env };
  if (settings.flavour === 'mpich') return hydraCommand(settings, extra, env);
  if (settings.env.SLURM_JOB_ID !== undefined) {
    return { command: 'srun', args: ['--mpi=pmix', '-n', String(settings.size), ...extra, ...settings.program], env };
  }
  const args = ['-n', String(settings.size)];
  const has = (flag: string) => extra.some((a) => a === flag || a.startsWith(`${flag}=`));
  if (settings.hostfile === undefined && !HOST_FLAGS.some(has) && settings.env.OMPI_MCA_orte_default_hostfile === undefined && !mcaGiven(extra, 'pml')) env.OMPI_MCA_pml ??= 'ob1';
  if (settings.size > settings.cores && !has('--oversubscribe') && !has('--map-by')) args.push('--oversubscribe');
  if (settings.isRoot && !has('--allow-run-as-root')) args.push('--allow-run-as-root');
  if (!has('--bind-to')) args.push('--bind-to', 'none');
  if (settings.hostfile !== undefined) args.push('--hostfile', settings.hostfile);
  for (const name of Object.keys(settings.env).sort()) {
    if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && !LOCAL_ONLY.test(name)) args.push('-x', name);
  }
  args.push(...extra, ...settings.program);
  return { command: settings.mpiexec, args, env };
}

/**
 * The program every rank runs: node and the rank entry. With more ranks than cores, V8's
 * background threads (GC helpers, and the optimising compiler's, which --single-threaded-gc
 * left running: 110-140 ms CPU per rank during pipeline_test's run, read from
 * /proc/self/task) only compete with the other ranks for the cores, and a rank's thread
 * that is descheduled while it holds one of Open MPI's locks stalls the rank's other
 * thread too, so the ranks run V8 on their own thread alone (--single-threaded).
 * pipeline_test -n 6 on 2 cores, 4 runs each in turns at load 9-20, with the other two
 * settings of this change (OMPI_MCA_pml above, mpi_yield_when_idle in world.ts): median
 * "ran" 2216 ms before, 1126 ms after; wall spent inside the ranks' MPI calls 6.0 s
 * before, 0.9 s after. With as many ranks as cores (d4's default on one host), the
 * optimising compiler's threads alone are left out, as zmq_multi's workers do: they took
 * 50-90 ms of CPU each, four a rank, from the ranks' own threads; pipeline_test -n 6 on
 * 2 ranks, 3 runs each in turns (load 9-11): "ran" 507-833 ms without them, 813-952 ms
 * with, 592-783 ms with --single-threaded.
 */
export function rankProgram(node: string, entry: string, size: number, cores: number): string[] {
  if (size > cores) return [node, '--single-threaded', entry];
  return size === cores ? [node, '--no-concurrent-recompilation', entry] : [node, entry];
}

/**
 * MPICH's mpiexec (Hydra) needs none of Open MPI's extras: it passes the whole environment
 * to every rank by default (-genvall), binds nothing unless asked, runs any number of
 * ranks on a host, and runs as root. Its hostfile option is -f. Inside a SLURM allocation
 * Hydra starts its proxies with srun itself, so the same command serves there.
 */
function hydraCommand(settings: LaunchSettings, extra: string[], env: NodeJS.ProcessEnv): LaunchCommand {
  const args = ['-n', String(settings.size)];
  if (settings.hostfile !== undefined) args.push('-f', settings.hostfile);
  args.push(...extra, ...settings.program);
  return { command: settings.mpiexec, args, env };
}

/** Splits `--mpiexec-args` as a shell would: spaces separate, quotes and backslashes keep. */
export function splitArgs(text: string): string[] {
  const out: string[] = [];
  let current = '';
  let started = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < text.length) current += text[++i];
      else current += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      started = true;
    } else if (c === '\\' && i + 1 < text.length) {
      current += text[++i];
      started = true;
    } else if (/\s/.test(c)) {
      if (started) out.push(current);
      current = '';
      started = false;
    } else {
      current += c;
      started = true;
    }
  }
  if (quote) throw new OptionError(`--mpiexec-args has an unclosed ${quote} quote: ${text}`, 'D4_MPI_OPTION');
  if (started) out.push(current);
  return out;
}
