import { spawn } from 'node:child_process';
import { constants, hostname } from 'node:os';
import { D4Error } from '@d4/core';
import { CallbackServer, type RankReport } from './callback-server.js';
import { isRunning, killQuietly, type Launch } from './launch.js';
import { checkMpichArgs, groupMpi } from './mpi-flavour.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
import type { GroupProcess } from './process.js';
import type { ProcessGroupOptions, ProcessTemplate } from './types.js';
import { mpiexecArgv, rankSpec, srunArgv } from './wrapper.js';

/** Bytes of the launcher's stderr kept for the message when the job cannot start. */
const STDERR_TAIL = 4096;

/** bash reports a child killed by signal N as 128 + N. */
function fromShellCode(code: number): { exitCode: number | null; signal: NodeJS.Signals | null } {
  if (code > 128 && code < 128 + 65) {
    const name = Object.entries(constants.signals).find(([, number]) => number === code - 128)?.[0];
    if (name) return { exitCode: null, signal: name as NodeJS.Signals };
  }
  return { exitCode: code, signal: null };
}

/**
 * The whole group as one MPI job: one mpiexec in MPMD form or one srun step, every rank wrapped (wrapper.ts)
 * so that it reports its pid, host and exit code and sends piped output on connections of
 * its own. Resolves once every rank has reported; rejects when the launcher ends before
 * that (it could not start the job), with what it said.
 */
export async function launchMpi(slots: readonly GroupProcess[], templates: readonly ProcessTemplate[], options: ProcessGroupOptions): Promise<Launch> {
  const srun = (options.launcher ?? (process.env.SLURM_JOB_ID ? 'srun' : 'mpiexec')) === 'srun';
  const launcher = srun ? (options.srun ?? 'srun') : (options.mpiexec ?? 'mpiexec');
  const mpi = await groupMpi(options);
  if (!srun && mpi === 'mpich') checkMpichArgs(launcher, options.mpiexecArgs ?? []);
  let reported = 0;
  let allReported!: () => void;
  const ready = new Promise<void>((resolve) => (allReported = resolve));
  const onReport = (report: RankReport) => {
    const slot = slots[report.rank];
    if (!slot) return;
    if (report.kind === 'info') {
      slot.wrapperPid = report.wrapperPid;
      slot.markStarted(report.pid > 0 ? report.pid : undefined, report.host);
      if (++reported === slots.length) allReported();
    } else {
      const { exitCode, signal } = fromShellCode(report.code);
      slot.markExited(exitCode, signal);
    }
  };
  const templateOf = (rank: number) => (slots[rank] ? templates[slots[rank].template] : undefined);
  const server = await CallbackServer.listen(options.callbackHost ?? '127.0.0.1', {
    spec: (rank) => {
      const template = templateOf(rank);
      return template && rankSpec(template);
    },
    report: onReport,
    stream: (rank, which, socket, head) => {
      const lines = slots[rank]?.lines(which);
      if (lines) lines.attach(socket, head);
      else socket.destroy();
    },
  });
  const callback = { host: options.callbackHost ?? '127.0.0.1', port: server.port, token: server.token };
  const argv = srun ? srunArgv(slots.length, callback, options.srunArgs ?? [], mpi) : mpiexecArgv(templates, callback, options.mpiexecArgs ?? [], mpi);
  const child = spawn(launcher, argv, { stdio: ['ignore', 'inherit', 'pipe'], env: process.env });
  let tail = '';
  // Ranks' inherited stderr comes through the launcher's: passed on, and its end kept for messages.
  child.stderr!.on('data', (chunk: Buffer) => {
    process.stderr.write(chunk);
    tail = (tail + chunk.toString('utf8')).slice(-STDERR_TAIL);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: NodeJS.ErrnoException }>((resolve) => {
    child.once('error', (error: NodeJS.ErrnoException) => resolve({ code: null, signal: null, error }));
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  const ended = exited.then(async ({ code, signal }) => {
    await outlive(slots, options.graceMs ?? 2000);
    // A rank that never reported its end (mpiexec killed it, or was killed) ends with the job.
    // srun, like a shell, reports a task killed by signal N as 128 + N.
    const job = srun && code !== null ? fromShellCode(code) : { exitCode: code, signal };
    for (const slot of slots) if (slot.running || (slot.exitCode === null && slot.signal === null)) slot.markExited(job.exitCode, job.signal);
    server.close();
  });
  const outcome = await Promise.race([ready.then(() => undefined), exited]);
  if (outcome !== undefined) {
    await ended;
    const install = mpi === 'mpich' ? 'install MPICH (apt-get install mpich)' : 'install Open MPI (apt-get install openmpi-bin)';
    const missing = srun ? ': run inside a SLURM cluster, or use launcher: "mpiexec"' : `: ${install} or give the path in the mpiexec option`;
    const how = outcome.error
      ? `${outcome.error.code ?? outcome.error.message}${outcome.error.code === 'ENOENT' ? missing : ''}`
      : `it ended with ${outcome.signal ?? `exit code ${outcome.code}`} before ${slots.length - reported} of ${slots.length} ranks started`;
    throw new D4Error('D4_PROCESS_START', `${launcher} cannot start the group's MPI job (${how})${tail.trim() ? `; it said: ${tail.trim()}` : ''}`, { cause: outcome.error });
  }
  const pids = () => [child.pid, ...slots.flatMap((s) => [s.pid, s.wrapperPid])].filter((pid): pid is number => pid !== undefined && pid > 0);
  return {
    signal: (signal) => void killQuietly(child.pid, signal),
    kill: () => {
      for (const pid of pids()) killQuietly(pid, 'SIGKILL');
    },
    pids: () => pids().filter(isRunning),
    ended,
  };
}

/**
 * The launcher may exit while a rank it signalled is still on its way out (the wrapper passes
 * SIGTERM on to the program and waits for it). The job is over only when the ranks of this
 * host are gone too: waited for up to `graceMs`, then killed, so that join() never returns
 * with a process of the group still running.
 */
async function outlive(slots: readonly GroupProcess[], graceMs: number): Promise<void> {
  const here = hostname();
  const local = slots.filter((s) => s.host === here || s.host === here.split('.')[0]).flatMap((s) => [s.pid, s.wrapperPid]);
  const pids = local.filter((pid): pid is number => pid !== undefined && pid > 0);
  for (const end = Date.now() + graceMs; pids.some(isRunning) && Date.now() < end; ) await sleep(20);
  for (const pid of pids.filter(isRunning)) killQuietly(pid, 'SIGKILL');
}
