import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { coreFolder, isolatedProject, packageFolder } from '../../core/test/isolated-project.js';
import { runCli, type RunCliOptions } from '../src/index.js';

export const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
/** The conformance graphs (core's sample workflows), as a module path the CLI can run. */
export const conformanceGraphsModule = createRequire(import.meta.url).resolve('@d4/core/conformance/graphs');
/** The `d4` command as package.json's `bin` names it (committed JS that loads dist/bin.js). */
export const binPath = fileURLToPath(new URL('../bin/d4.js', import.meta.url));

export interface CliOutcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** A stream that keeps what is written, optionally posing as a terminal. */
export class BufferStream {
  text = '';
  constructor(
    readonly isTTY = false,
    readonly columns = 200,
  ) {}
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}

/** Runs `d4 <args>` in-process, with fixtures/ as the working directory by default. */
export async function d4(args: string[], options: RunCliOptions = {}): Promise<CliOutcome> {
  const stdout = new BufferStream();
  const stderr = options.stderr instanceof BufferStream ? options.stderr : new BufferStream();
  const code = await runCli(args, { cwd: fixtures, ...options, stdout, stderr });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/**
 * Runs the built `d4` binary as a child process. `onStderr` sees stderr as it arrives
 * (to interrupt a run once it has started).
 */
export function spawnD4(
  args: string[],
  options: { cwd?: string; env?: Record<string, string>; onStderr?: (text: string, child: ReturnType<typeof spawn>) => void } = {},
): Promise<CliOutcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [binPath, ...args], {
      cwd: options.cwd ?? fixtures,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      stderr += text;
      options.onStderr?.(stderr, child);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? -1 : 0), stdout, stderr }));
  });
}

/**
 * Runs the `d4` binary as installed in a project that has only the CLI and what it needs
 * (core, runtime, msgpackr), outside this workspace, whose root depends on every backend:
 * how "a backend that is not installed" looks to a user. The project helper is core's.
 */
export function spawnD4WithoutBackends(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const project = isolatedProject({
    '@d4/cli': cliFolder,
    '@d4/core': packageFolder('@d4/core', import.meta.url),
    '@d4/runtime': packageFolder('@d4/runtime', import.meta.url),
    msgpackr: packageFolder('msgpackr', join(coreFolder, 'package.json')),
  });
  try {
    return project.node([join(project.dir, 'node_modules/@d4/cli/bin/d4.js'), ...args]);
  } finally {
    project.remove();
  }
}
const cliFolder = fileURLToPath(new URL('..', import.meta.url));
