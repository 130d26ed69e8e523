import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Executor } from '../src/index.js';
import { startSlurm, type SlurmCluster } from './slurm-cluster.js';
import { rejectionOf, tempDir } from './helpers.js';

// The SLURM backend against a real slurmctld + slurmd that this file starts (test/slurm-cluster.ts).
let cluster: SlurmCluster;
beforeAll(async () => {
  cluster = await startSlurm();
  process.env.SLURM_CONF = cluster.env.SLURM_CONF;
}, 60_000);
afterAll(async () => {
  await cluster?.stop();
  delete process.env.SLURM_CONF;
}, 60_000);

function stepInfo(i: number) {
  const env = process.env;
  return { i, job: env.SLURM_JOB_ID, step: env.SLURM_STEP_ID, name: env.SLURM_JOB_NAME, cpus: env.SLURM_CPUS_PER_TASK, cuda: env.CUDA_VISIBLE_DEVICES, cwd: process.cwd() };
}

function twice(x: number): number {
  return 2 * x;
}

describe("backend: 'slurm'", () => {
  test('block allocation: one srun step per worker runs task after task, every result back and in order', async () => {
    await using exe = new Executor({ backend: 'slurm', maxWorkers: 2, blockAllocation: true });
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => exe.submit(twice, i)));
    expect(results).toEqual(Array.from({ length: 200 }, (_, i) => 2 * i));
    const infos = await Promise.all(Array.from({ length: 20 }, (_, i) => exe.submit(stepInfo, i)));
    // Tasks ran in SLURM job steps, on at most the two workers' jobs (outside an allocation each srun is a job).
    expect(infos.every((s) => s.job !== undefined && s.step === '0')).toBe(true);
    expect(new Set(infos.map((s) => s.job)).size).toBeLessThanOrEqual(2);
  }, 60_000);

  test('without block allocation every task is a step of its own; threadsPerCore is --cpus-per-task, cwd is --chdir, slurmArgs come last', async () => {
    const dir = tempDir();
    try {
      await using exe = new Executor({ backend: 'slurm', maxWorkers: 2, threadsPerCore: 2, cwd: dir.path, slurmArgs: ['--job-name=from-slurm-args'] });
      const infos = await Promise.all([0, 1, 2].map((i) => exe.submit(stepInfo, i)));
      expect(new Set(infos.map((s) => s.job)).size).toBe(3);
      expect(infos.map((s) => [s.i, s.cpus, s.name, s.cwd])).toEqual([0, 1, 2].map((i) => [i, '2', 'from-slurm-args', dir.path]));
    } finally {
      dir.cleanup();
    }
  }, 60_000);

  test('GPUs: each worker gets its own from SLURM (CUDA_VISIBLE_DEVICES set by the step)', async () => {
    await using exe = new Executor({ backend: 'slurm', maxWorkers: 2, gpusPerWorker: 1, blockAllocation: true });
    // Hold both workers at once, so each reports its own GPU.
    const slow = async (i: number) => {
      await new Promise((r) => setTimeout(r, 300));
      return process.env.CUDA_VISIBLE_DEVICES;
    };
    const seen = await Promise.all([exe.submit(slow, 0), exe.submit(slow, 1)]);
    expect([...seen].sort()).toEqual(['0', '1']);
  }, 60_000);

  test('a worker that exits fails its task with D4_WORKER_CRASHED naming the slurm worker; the next task runs on a new step', async () => {
    await using exe = new Executor({ backend: 'slurm', maxWorkers: 1, blockAllocation: true });
    const error = await rejectionOf(exe.submit(() => process.exit(3)));
    expect(error.code).toBe('D4_WORKER_CRASHED');
    expect(error.message).toMatch(/^the slurm worker 1 running task #\d+ \(anonymous\) (ended: rank 0 of 1 closed its connection|exited with code 3)/);
    expect(await exe.submit(twice, 21)).toBe(42);
  }, 60_000);

  test('srun refusing a flag fails the task with what srun said, and nothing hangs', async () => {
    await using exe = new Executor({ backend: 'slurm', maxWorkers: 1, slurmArgs: ['--no-such-srun-flag'] });
    const error = await rejectionOf(exe.submit(twice, 1));
    expect(error.code).toBe('D4_WORKER_CRASHED');
    expect(error.message).toContain('srun said: ');
    expect(error.message).toContain('no-such-srun-flag');
  }, 60_000);

  test("'auto' picks SLURM inside an allocation (SLURM_JOB_ID set, srun on PATH): a script under salloc", () => {
    const repo = fileURLToPath(new URL('../../../', import.meta.url));
    const tsxCli = createRequire(import.meta.url).resolve('tsx/cli');
    const run = spawnSync('salloc', ['-n', '2', process.execPath, tsxCli, 'packages/executor/test/fixtures/slurm-auto.ts'], { cwd: repo, env: cluster.env, encoding: 'utf8', timeout: 60_000 });
    expect(run.stderr).toContain('Granted job allocation');
    const out = JSON.parse(run.stdout.trim()) as { sum: number; allocation: string; steps: [string, string][] };
    expect(out.sum).toBe(2);
    // Both tasks ran as steps of the allocation the script ran in.
    expect(out.steps.every(([job, step]) => job === out.allocation && /^\d+$/.test(step))).toBe(true);
  }, 90_000);
});
