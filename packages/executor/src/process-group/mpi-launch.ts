import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { D4Error } from '@d4/core';
import { CallbackServer, type RankReport } from './callback-server.js';
import { isRunning, killQuietly, type Launch } from './launch.js';
import type { GroupProcess } from './process.js';
import type { ProcessGroupOptions, ProcessTemplate } from './types.js';
import { mpiexecArgv } from './wrapper.js';

/** Bytes of mpiexec's stderr kept for the message when the job cannot start. */
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
 * The whole group as one MPI job: one mpiexec in MPMD form, every rank wrapped (wrapper.ts)
 * so that it reports its pid, host and exit code and sends piped output on connections of
 * its own. Resolves once every rank has reported; rejects when mpiexec ends before that
 * (it could not start the job), with what mpiexec said.
 */
export async function launchMpi(slots: readonly GroupProcess[], templates: readonly ProcessTemplate[], options: ProcessGroupOptions): Promise<Launch> {
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
  const server = await CallbackServer.listen(options.callbackHost ?? '127.0.0.1', {
    report: onReport,
    stream: (rank, which, socket, head) => {
      const lines = slots[rank]?.lines(which);
      if (lines) lines.attach(socket, head);
      else socket.destroy();
    },
  });
  const mpiexec = options.mpiexec ?? 'mpiexec';
  const argv = mpiexecArgv(templates, { host: options.callbackHost ?? '127.0.0.1', port: server.port, token: server.token }, options.mpiexecArgs ?? []);
  const child = spawn(mpiexec, argv, { stdio: ['ignore', 'inherit', 'pipe'], env: process.env });
  let tail = '';
  // Ranks' inherited stderr comes through mpiexec's: passed on, and its end kept for messages.
  child.stderr!.on('data', (chunk: Buffer) => {
    process.stderr.write(chunk);
    tail = (tail + chunk.toString('utf8')).slice(-STDERR_TAIL);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: NodeJS.ErrnoException }>((resolve) => {
    child.once('error', (error: NodeJS.ErrnoException) => resolve({ code: null, signal: null, error }));
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  const ended = exited.then(({ code, signal }) => {
    // A rank that never reported its end (mpiexec killed it, or was killed) ends with the job.
    for (const slot of slots) if (slot.running || (slot.exitCode === null && slot.signal === null)) slot.markExited(code, signal);
    server.close();
  });
  const outcome = await Promise.race([ready.then(() => undefined), exited]);
  if (outcome !== undefined) {
    await ended;
    const how = outcome.error
      ? `${outcome.error.code ?? outcome.error.message}${outcome.error.code === 'ENOENT' ? ': install Open MPI (apt-get install openmpi-bin) or give the path in the mpiexec option' : ''}`
      : `it ended with ${outcome.signal ?? `exit code ${outcome.code}`} before ${slots.length - reported} of ${slots.length} ranks started`;
    throw new D4Error('D4_PROCESS_START', `${mpiexec} cannot start the group's MPI job (${how})${tail.trim() ? `; it said: ${tail.trim()}` : ''}`, { cause: outcome.error });
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
