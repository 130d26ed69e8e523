/**
 * Two "hosts" on one machine for tests of backends that cross hosts: two network
 * namespaces joined by a veth pair, each with its own address on a private subnet, so that
 * a driver in one and a worker in the other talk over a real network interface (not
 * loopback). Needs root and iproute2 (`ip`).
 *
 * Everything is named after this process's pid and a counter, so parallel test runs never
 * collide; `remove()` kills every process inside the namespaces (including grandchildren a
 * driver started) and deletes them, and the same clean-up runs on process exit. Namespaces
 * left by a run that was killed outright (SIGKILL) are swept by the next run, since their
 * names carry a pid that no longer lives.
 */
import { execFile, execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export interface NamespaceHost {
  /** The network namespace's name (`ip netns exec <name> …`). */
  readonly name: string;
  /** Its address on the veth pair's subnet, reachable from the other host. */
  readonly address: string;
  /** The veth interface inside it. */
  readonly device: string;
}

export interface CommandResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunInHostOptions extends Omit<SpawnOptions, 'stdio'> {
  /** Killed (SIGKILL) after this many ms, so that a hung command cannot hang the test; default 120 000. */
  timeoutMs?: number;
}

export interface TwoHosts {
  readonly a: NamespaceHost;
  readonly b: NamespaceHost;
  /** Starts a command inside a host's namespace; it is killed by `remove()` if still running. */
  spawn(host: NamespaceHost, command: string, args: readonly string[], options?: SpawnOptions): ChildProcess;
  /** Runs a command inside a host's namespace to its end, with its output. */
  run(host: NamespaceHost, command: string, args: readonly string[], options?: RunInHostOptions): Promise<CommandResult>;
  /** Kills every process left in both namespaces and deletes them (idempotent). */
  remove(): Promise<void>;
}

const PREFIX = 'd4h';
let sequence = 0;
const live = new Set<string>();
let exitHookInstalled = false;

/** Why two hosts cannot be made here, or undefined when they can. */
export function twoHostsUnavailable(): string | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'network namespaces need root: run the tests as root';
  try {
    execFileSync('ip', ['-V'], { stdio: 'ignore' });
  } catch {
    return "the 'ip' command (iproute2) is missing: apt-get install iproute2";
  }
  return undefined;
}

export async function createTwoHosts(): Promise<TwoHosts> {
  const unavailable = twoHostsUnavailable();
  if (unavailable) throw new Error(`createTwoHosts: ${unavailable}`);
  installExitHook();
  sweepStale();
  const n = sequence++;
  // Interface names are limited to 15 characters; pid and counter in base 36 keep them short.
  const short = `${PREFIX}${process.pid.toString(36)}${n.toString(36)}`;
  const a = host(`${PREFIX}-${process.pid}-${n}-a`, `${short}a`, 1);
  const b = host(`${PREFIX}-${process.pid}-${n}-b`, `${short}b`, 2);
  const children = new Set<ChildProcess>();
  try {
    for (const h of [a, b]) {
      await ip('netns', 'add', h.name);
      live.add(h.name);
    }
    await ip('link', 'add', a.device, 'type', 'veth', 'peer', 'name', b.device);
    for (const h of [a, b]) {
      await ip('link', 'set', h.device, 'netns', h.name);
      await ip('-n', h.name, 'addr', 'add', `${h.address}/24`, 'dev', h.device);
      await ip('-n', h.name, 'link', 'set', h.device, 'up');
      await ip('-n', h.name, 'link', 'set', 'lo', 'up');
    }
  } catch (error) {
    removeNamespaces([a.name, b.name]);
    throw new Error(`createTwoHosts: could not set up namespaces ${a.name} and ${b.name}: ${(error as Error).message}`);
  }

  let removed = false;
  const inHost = (h: NamespaceHost, command: string, args: readonly string[], options: SpawnOptions): ChildProcess => {
    if (removed) throw new Error(`createTwoHosts: ${h.name} was removed`);
    // `ip netns exec` execs the command in place, so the child's pid is the command's.
    const child = spawn('ip', ['netns', 'exec', h.name, command, ...args], options);
    children.add(child);
    child.once('exit', () => children.delete(child));
    return child;
  };

  return {
    a,
    b,
    spawn: (h, command, args, options = {}) => inHost(h, command, args, options),
    run: (h, command, args, options = {}) => {
      const { timeoutMs = 120_000, ...spawnOptions } = options;
      return new Promise<CommandResult>((resolve, reject) => {
        const child = inHost(h, command, args, { ...spawnOptions, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
        child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
        const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
        child.once('error', (error) => {
          clearTimeout(timer);
          reject(error);
        });
        child.once('close', (code, signal) => {
          clearTimeout(timer);
          resolve({ code, signal, stdout, stderr });
        });
      });
    },
    remove: async () => {
      if (removed) return;
      removed = true;
      const exited = [...children].map((child) => new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve()))));
      const killed = removeNamespaces([a.name, b.name]);
      await Promise.all(exited);
      await gone(killed);
    },
  };
}

function host(name: string, device: string, index: number): NamespaceHost {
  // A private /24 per run (the namespaces are isolated, so runs could share one; distinct
  // subnets keep a leak from one run from ever answering another's packets).
  const subnet = 1 + (process.pid % 200);
  return { name, device, address: `10.213.${subnet}.${index}` };
}

async function ip(...args: string[]): Promise<void> {
  try {
    await execFileAsync('ip', args);
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new Error(`ip ${args.join(' ')} failed${stderr ? `: ${stderr}` : ''}`);
  }
}

/** Synchronous, so that it also runs in an 'exit' handler. Returns the pids it killed. */
function removeNamespaces(names: readonly string[]): number[] {
  const killed: number[] = [];
  for (const name of names) {
    // A namespace lives on while a process is in it (and its veth with it): kill them all first.
    let pids: string[] = [];
    try {
      pids = execFileSync('ip', ['netns', 'pids', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split(/\s+/).filter(Boolean);
    } catch {
      // not there (never made, or already removed)
    }
    for (const pid of pids.map(Number)) {
      killed.push(pid);
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    try {
      execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
    } catch {
      // not there
    }
    live.delete(name);
  }
  return killed;
}

/** Whether a process still runs (a zombie has ended: only its parent's wait is left). */
export function processRuns(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** Waits (at most 10 s) until SIGKILLed processes have ended: the signal is delivered asynchronously. */
async function gone(pids: readonly number[]): Promise<void> {
  for (let waited = 0; waited < 10_000 && pids.some(processRuns); waited += 10) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => removeNamespaces([...live]));
}

/** Removes namespaces of earlier runs whose process is gone (a run killed by SIGKILL). */
function sweepStale(): void {
  let names: string[];
  try {
    names = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
      .split('\n')
      .map((line) => line.split(' ')[0])
      .filter((name) => name.startsWith(`${PREFIX}-`));
  } catch {
    return;
  }
  const stale = names.filter((name) => {
    const pid = Number(name.split('-')[1]);
    if (!Number.isInteger(pid) || pid === process.pid) return false;
    try {
      process.kill(pid, 0);
      return false;
    } catch {
      return true;
    }
  });
  removeNamespaces(stale);
}
