import { existsSync, readFileSync } from 'node:fs';

/** A started set of processes (one local child, or one mpiexec job) as the group drives it. */
export interface Launch {
  /** Sends a signal the polite way (to the child, or to mpiexec, which passes it on to the ranks). */
  signal(signal: NodeJS.Signals): void;
  /** SIGKILL to everything it started, synchronously (also used from process 'exit'). */
  kill(): void;
  /** Every pid it started that may still run. */
  pids(): number[];
  /** Resolves when it has ended (every process of it exited and was reported). */
  readonly ended: Promise<void>;
}

const live = new Set<Launch>();
let hooked = false;

/**
 * Tracks a launch until it ends; if this Node process exits first, everything still
 * running is killed, so no group leaves an orphan behind.
 */
export function track(launch: Launch): void {
  live.add(launch);
  void launch.ended.then(() => live.delete(launch));
  if (!hooked) {
    hooked = true;
    process.once('exit', () => {
      for (const each of live) each.kill();
    });
  }
}

const PROC = existsSync('/proc/self/stat');

/**
 * Whether a pid is a process that still runs. A zombie does not: a rank whose mpiexec has
 * gone is reparented, and in a container whose pid 1 does not reap, it stays a zombie for ever.
 */
export function isRunning(pid: number): boolean {
  if (!PROC) return killQuietly(pid, 0);
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

export function killQuietly(pid: number | undefined, signal: NodeJS.Signals | 0): boolean {
  if (pid === undefined || pid <= 0) return false;
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}
