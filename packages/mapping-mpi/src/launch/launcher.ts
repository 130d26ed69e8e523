import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { D4Error, OptionError, requireWorkflowSource, type InputSpec, type RunOptions, type RunResult, type WorkflowInput } from '@d4/core';
import { abortError } from '@d4/core/internal';
import { fromWireError, prepareWorkerSource } from '@d4/runtime';
import { launchCommand, rankProgram, type LaunchCommand } from './command.js';
import { rankEntry, requireLauncher } from './find-program.js';
import { MpiexecOutput } from './mpiexec-output.js';
import { ptyNewlines } from './pty-lines.js';
import { launchSize } from './ranks.js';
import { PRELOAD_ENV, RELAY_ENV, RelayChannel, portableOptions, type RelayMessage } from './relay.js';

const TYPESCRIPT_FILE = /\.[cm]?tsx?$/;

/** How long mpiexec gets to end the ranks after rank 0 reported a failure. */
const ABORT_WAIT_MS = 3000;
/**
 * How long mpiexec gets to end after SIGTERM before SIGKILL: once (load ~20, a rank's
 * MPI_Abort early in the run) Open MPI's mpiexec sat with every rank exited and unreaped,
 * ignoring SIGTERM, and the run would have waited for ever.
 */
const KILL_WAIT_MS = 3000;

/**
 * `d4 run mpi` outside mpiexec: starts mpiexec (or srun inside SLURM) with the rank entry,
 * gives rank 0 the job over a Unix socket, relays log lines and outputs to the caller's
 * options, and returns rank 0's result. The ranks' own output passes through; Open MPI's
 * banners become one error naming the rank that died.
 */
export async function launchRun(workflow: WorkflowInput, inputs: InputSpec, options: RunOptions): Promise<RunResult> {
  const source = requireWorkflowSource(workflow, 'mpi');
  const { size, ranks } = launchSize(workflow, inputs, options);
  // Compiled here once (a cached copy when the CLI loaded it): rank 0 and the ranks then load JavaScript.
  const compiled = await prepareWorkerSource(source);
  const hostfile = options.hostfile === undefined ? undefined : resolve(String(options.hostfile));
  if (hostfile !== undefined && !existsSync(hostfile)) {
    throw new OptionError(`--hostfile ${String(options.hostfile)}: there is no such file (${hostfile}); give mpiexec's hostfile, one host a line (e.g. "node1 slots=4")`, 'D4_MPI_OPTION');
  }
  if (options.signal?.aborted) throw abortError(options.signal);
  const dir = mkdtempSync(join(tmpdir(), 'd4-mpi-'));
  const socketPath = join(dir, 'relay.sock');
  let command: LaunchCommand;
  let flavour: 'openmpi' | 'mpich' = 'openmpi';
  try {
    // The ranks load @d4/mpi's addon: the launcher must be its MPI's (srun for Open MPI
    // inside SLURM; MPICH's mpiexec starts its proxies with srun there by itself).
    const { mpiBuild } = await import('@d4/mpi');
    const impl = mpiBuild().impl;
    const launcher = process.env.SLURM_JOB_ID !== undefined && impl !== 'mpich' ? { path: 'srun', flavour: 'openmpi' as const } : requireLauncher(impl);
    flavour = launcher.flavour;
    command = launchCommand({
      size: ranks,
      program: rankProgram(process.execPath, rankEntry(), ranks, availableParallelism()),
      mpiexec: launcher.path,
      flavour: launcher.flavour,
      hostfile,
      extraArgs: options.mpiexecArgs === undefined ? undefined : String(options.mpiexecArgs),
      cores: availableParallelism(),
      isRoot: process.getuid?.() === 0,
      env: {
        ...process.env,
        NO_COLOR: '1',
        OMPI_MCA_btl_vader_single_copy_mechanism: process.env.OMPI_MCA_btl_vader_single_copy_mechanism ?? 'none',
        [RELAY_ENV]: socketPath,
        // A plain JavaScript workflow can be imported by every rank while MPI_Init waits.
        ...(TYPESCRIPT_FILE.test(compiled.module) ? {} : { [PRELOAD_ENV]: compiled.module }),
      },
    });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }

  let settle!: (outcome: { result?: RunResult; error?: D4Error }) => void;
  const outcome = new Promise<{ result?: RunResult; error?: D4Error }>((resolve) => {
    settle = resolve;
  });
  const onMessage = (message: RelayMessage) => {
    if (message.type === 'log') options.log ? options.log(message.peId, message.instance, message.message) : process.stderr.write(`${message.peId} (rank ${message.instance}): ${message.message}\n`);
    else if (message.type === 'output') options.onOutput?.(message.peId, message.port, message.value);
    else if (message.type === 'progress') Object.assign(options.progress?.calls ?? {}, message.calls);
    else if (message.type === 'result') settle({ result: message.result });
    else if (message.type === 'error') settle({ error: fromWireError(message.error, 'rank 0') });
  };
  const server = createServer((socket: Socket) => {
    const channel = new RelayChannel(socket, onMessage);
    socket.on('error', () => {});
    channel.send({ type: 'job', source, compiled, inputs, options: { ...portableOptions(options), numProcesses: size }, streamOutputs: options.onOutput !== undefined, keepProgress: options.progress !== undefined });
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(socketPath, resolve));

  const child = spawn(command.command, command.args, { env: command.env, stdio: ['ignore', 'pipe', 'pipe'] });
  // Should the caller's process end first (a test's timeout, an uncaught error), mpiexec ends with it.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const output = new MpiexecOutput((text) => process.stderr.write(text));
  const stdout = ptyNewlines((text) => process.stdout.write(text));
  // MPICH's Hydra prints its report of a dead rank on stdout: read like Open MPI's stderr.
  const hydra = flavour === 'mpich' ? new MpiexecOutput((text) => stdout.write(text)) : undefined;
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (hydra ? hydra.write(chunk) : stdout.write(chunk)));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => output.write(chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; spawnError?: Error }>((resolve) => {
    child.once('error', (spawnError) => resolve({ code: null, signal: null, spawnError }));
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  const onAbort = () => {
    child.kill('SIGTERM');
    settle({ error: abortError(options.signal!) });
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const first = await Promise.race([outcome, exited.then(() => undefined)]);
    if (first?.error) {
      // Rank 0 reported the failure and calls MPI_Abort, which ends every rank (quieter than
      // a signal to mpiexec, whose event library then complains); a signal only if it lingers.
      const lingering = setTimeout(() => child.kill('SIGTERM'), ABORT_WAIT_MS);
      const stuck = setTimeout(() => child.kill('SIGKILL'), ABORT_WAIT_MS + KILL_WAIT_MS);
      await exited;
      clearTimeout(lingering);
      clearTimeout(stuck);
      throw first.error;
    }
    const end = await exited;
    output.flush();
    hydra?.flush();
    stdout.flush();
    output.death ??= hydra?.death;
    const late = await Promise.race([outcome, Promise.resolve(undefined)]);
    if (late?.error) throw late.error;
    if (late?.result && end.code === 0) return late.result;
    throw launchFailure(command.command, end, output, ranks);
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    process.removeListener('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function launchFailure(program: string, end: { code: number | null; signal: NodeJS.Signals | null; spawnError?: Error }, output: MpiexecOutput, size: number): D4Error {
  if (end.spawnError) return new D4Error('D4_MPI_LAUNCH', `cannot start ${program}: ${end.spawnError.message}`, { cause: end.spawnError });
  const death = output.death;
  if (death) {
    const which = death.rank !== undefined ? `rank ${death.rank} of ${size} (host ${death.host})` : `a rank of ${size} (pid ${death.pid}, host ${death.host})`;
    return new D4Error('D4_MPI_RANK_DIED', `${which} died: it exited on ${death.how} before the run was over, so mpiexec ended every rank; the run's results are lost`);
  }
  const how = end.signal ? `was ended by ${end.signal}` : `exited with code ${end.code}`;
  const notes = output.notes.length ? `: ${output.notes.join(' / ')}` : '';
  return new D4Error('D4_MPI_LAUNCH', `${program} ${how} before rank 0 sent the run's result${notes}`);
}
