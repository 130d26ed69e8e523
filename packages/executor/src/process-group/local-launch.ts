import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import { D4Error } from '@d4/core';
import { killQuietly, type Launch } from './launch.js';
import type { GroupProcess } from './process.js';
import type { ProcessTemplate, StdioMode } from './types.js';

const stdio = (mode: StdioMode | undefined): 'pipe' | 'inherit' | 'ignore' => mode ?? 'inherit';

/**
 * One independent process of a group: a child of this process, in this process's process
 * group, so that a Ctrl-C in the terminal reaches it as it reaches this one.
 */
export async function launchLocal(slot: GroupProcess, template: ProcessTemplate): Promise<Launch> {
  const child = spawn(template.command, [...(template.args ?? [])], {
    cwd: template.cwd,
    env: { ...process.env, ...template.env },
    stdio: ['ignore', stdio(template.stdout), stdio(template.stderr)],
  });
  const ended = new Promise<void>((resolve) => {
    child.once('close', (code, signal) => {
      slot.markExited(code, signal);
      resolve();
    });
  });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        new D4Error(
          'D4_PROCESS_START',
          `process ${slot.rank} of the group (template ${slot.template}) cannot start ${JSON.stringify(template.command)}: ${error.code ?? error.message}; ${error.code === 'ENOENT' ? 'check the command name and PATH, or give an absolute path' : 'check the command and its cwd'}`,
          { cause: error },
        ),
      );
    });
  });
  slot.markStarted(child.pid, hostname());
  if (child.stdout) slot.lines('stdout')?.attach(child.stdout);
  if (child.stderr) slot.lines('stderr')?.attach(child.stderr);
  const pid = child.pid!;
  return {
    signal: (signal) => void killQuietly(pid, signal),
    kill: () => void killQuietly(pid, 'SIGKILL'),
    pids: () => (slot.running ? [pid] : []),
    ended,
  };
}
