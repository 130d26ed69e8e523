import { fork } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RepetitionReport, RepetitionSpec } from './protocol.js';

const here = dirname(fileURLToPath(import.meta.url));
const CHILD = resolve(here, 'child.ts');
const REPO_ROOT = resolve(here, '../..');

export interface RepetitionOutcome {
  report: RepetitionReport;
  /** Wall time of the child process, spawn to exit, in ms. */
  processMs: number;
}

/** Runs one repetition in a fresh Node process with tsx, so JIT and heap start clean. */
/**
 * `root` is the checkout whose bench child and packages run it (default: this one), so that
 * two builds can take turns in one bench (run.ts --trees).
 */
export function runRepetition(spec: RepetitionSpec, timeoutMs: number, root = REPO_ROOT): Promise<RepetitionOutcome> {
  return new Promise((done) => {
    const started = performance.now();
    const child = fork(root === REPO_ROOT ? CHILD : resolve(root, 'bench/src/child.ts'), [JSON.stringify(spec)], {
      cwd: root,
      execArgv: ['--import', import.meta.resolve('tsx')],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let report: RepetitionReport | undefined;
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      // Keep the tail only: a chatty PE must not fill the harness's memory.
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    child.on('message', (message) => {
      report ??= message as RepetitionReport;
    });
    const timer = setTimeout(() => {
      report ??= { kind: 'failed', code: 'BENCH_TIMEOUT', message: `the repetition did not end within ${timeoutMs / 1000} s and was killed` };
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (error) => {
      report ??= { kind: 'failed', code: 'BENCH_SPAWN', message: `cannot start the child process: ${error.message}` };
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const processMs = performance.now() - started;
      report ??= {
        kind: 'failed',
        code: 'BENCH_CHILD_DIED',
        message: `the child process ended (${signal ?? `exit code ${code}`}) without a report${stderr.trim() ? `; its stderr ended with: ${stderr.trim().split('\n').slice(-5).join(' | ')}` : ''}`,
      };
      done({ report, processMs });
    });
  });
}

