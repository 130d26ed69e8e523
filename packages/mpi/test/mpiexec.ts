// Runs a test program under the real mpiexec (Open MPI) and collects what each rank
// reported. Programs print `RESULT <json>` lines (see programs/report.ts); a run that
// outlives its deadline is killed with its process group, so no test can hang.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface MpiRun {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Every RESULT line's JSON, in the order printed. */
  results: Array<Record<string, unknown>>;
  timedOut: boolean;
}

const PACKAGE_ROOT = fileURLToPath(new URL('..', import.meta.url));

export const programPath = (name: string, root = PACKAGE_ROOT) => join(root, 'test', 'programs', `${name}.ts`);

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

export interface RunMpiOptions {
  env?: Record<string, string>;
  deadlineMs?: number;
  args?: string[];
  /** Another copy of the package (its src, test/programs and build), e.g. one built against MPICH. */
  root?: string;
  /** The launcher before `-n <ranks>` (default: Open MPI's mpiexec with its flags for this machine). */
  launcher?: string[];
}

/** `mpiexec -n <ranks> node --import tsx <program>`; ranks 0 means no launcher at all. */
export function runMpi(program: string, ranks: number, options: RunMpiOptions = {}): Promise<MpiRun> {
  const root = options.root ?? PACKAGE_ROOT;
  const node = [process.execPath, '--import', 'tsx', programPath(program, root), ...(options.args ?? [])];
  const openMpi = ['mpiexec', ...(isRoot ? ['--allow-run-as-root'] : []), '--oversubscribe', '--bind-to', 'none'];
  const launcher = ranks === 0 ? [] : [...(options.launcher ?? openMpi), '-n', String(ranks)];
  const [command, ...args] = [...launcher, ...node];
  const child = spawn(command, args, {
    cwd: root,
    env: { ...process.env, FORCE_COLOR: '0', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }, options.deadlineMs ?? 45_000);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      const results = stdout
        .split('\n')
        .filter((line) => line.startsWith('RESULT '))
        .map((line) => JSON.parse(line.slice('RESULT '.length)) as Record<string, unknown>);
      resolve({ status, signal, stdout, stderr, results, timedOut });
    });
  });
}

/** The results of `rank`, merged (a program may print several lines). */
export function ofRank(run: MpiRun, rank: number): Record<string, unknown> {
  return Object.assign({}, ...run.results.filter((r) => r.rank === rank));
}
