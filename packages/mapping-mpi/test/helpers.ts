import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadWorkflow, type LoadedWorkflow } from '@d4/core';

export const fixtures = fileURLToPath(new URL('./fixtures/workflows.ts', import.meta.url));
export const graphTesting = fileURLToPath(new URL('../../../examples/graph_testing/', import.meta.url));
/** The d4 command of this repository (built). */
export const d4Bin = fileURLToPath(new URL('../../cli/bin/d4.js', import.meta.url));

/**
 * What the slurmSteps fixture printed (`--results json`), read into the facts the SLURM
 * tests check: every value once, and the SLURM job, step and task each value was run in.
 */
export function slurmStepsSeen(stdout: string): { values: number[]; jobs: Set<string | null>; steps: Set<string | null>; tasks: Set<string | null> } {
  const seen = (JSON.parse(stdout) as { outputs: { InStep1: { output: Array<[number, string | null, string | null, string | null]> } } }).outputs.InStep1.output;
  return {
    values: seen.map(([n]) => n).sort((x, y) => x - y),
    jobs: new Set(seen.map(([, job]) => job)),
    steps: new Set(seen.map(([, , step]) => step)),
    tasks: new Set(seen.map(([, , , task]) => task)),
  };
}

export function workflow(exportName: string, args?: unknown): Promise<LoadedWorkflow> {
  return loadWorkflow(fixtures, { exportName, args });
}

export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end (its own environment: without a launcher's variables), with what it printed. */
export function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** mpiexec as a user on this machine types it (root is allowed, more ranks than cores too). */
export function mpiexec(n: number, args: readonly string[]): Promise<Finished> {
  return run('mpiexec', ['-n', String(n), '--oversubscribe', '--bind-to', 'none', ...(process.getuid?.() === 0 ? ['--allow-run-as-root'] : []), ...args]);
}
