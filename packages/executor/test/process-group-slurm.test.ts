import { spawnSync } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { ProcessGroup, type ProcessGroupOptions } from '../src/index.js';
import { alive, buildRanks, collect } from './process-group-helpers.js';
import { startSlurm, type SlurmCluster } from './slurm-cluster.js';

// MPI groups under a real slurmctld + slurmd that this file starts (test/slurm-cluster.ts, one
// node of 2 CPUs: --overcommit lets 3 ranks share them).
const SRUN: ProcessGroupOptions = { mpi: true, launcher: 'srun', srunArgs: ['--overcommit'] };

let cluster: SlurmCluster;
let ranks: string;
let remove: () => void;
let mpich: { ranks: string; remove(): void } | undefined;
beforeAll(async () => {
  ({ ranks, remove } = buildRanks());
  mpich = buildRanks('mpicc.mpich');
  cluster = await startSlurm();
  process.env.SLURM_CONF = cluster.env.SLURM_CONF;
}, 60_000);
// SLURM's PMIx plugin keeps a folder per step in /tmp (spmix_appdir_<uid>_<job>.<step>); one
// left by a step that was killed makes the same job id fail to launch in the next test cluster,
// whose job ids start at 1 again. The folders this file's steps made are removed.
const appdirs = () => new Set(readdirSync(tmpdir()).filter((name) => name.startsWith('spmix_appdir_')));
const before = appdirs();
afterAll(async () => {
  await cluster?.stop();
  for (const name of appdirs()) if (!before.has(name)) rmSync(join(tmpdir(), name), { recursive: true, force: true });
  delete process.env.SLURM_CONF;
  remove?.();
  mpich?.remove();
}, 60_000);

/**
 * Outside an allocation each srun is a job of its own; one started while the last is still
 * completing on the node can fail to launch ("aborted before step completely launched").
 */
async function nodeIdle(): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const queue = spawnSync('squeue', ['-h'], { env: cluster.env, encoding: 'utf8' }).stdout.trim();
    const state = spawnSync('sinfo', ['-h', '-N', '-o', '%T'], { env: cluster.env, encoding: 'utf8' }).stdout.trim();
    if (queue === '' && state === 'idle') return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the test SLURM node did not become idle');
}

describe('an MPI group as one srun step (--mpi=pmix, or pmi2 for MPICH)', () => {
  test('3 ranks, one world: the head rank piped, the others ignored, every line whole; nothing left after', async () => {
    await nodeIdle();
    const group = new ProcessGroup(SRUN)
      .add({ nproc: 1, command: ranks, args: ['500', '3000'], stdout: 'pipe' })
      .add({ nproc: 2, command: ranks, args: ['500', '3000'], stdout: 'ignore', env: { D4_SAY: 'quiet' } });
    await group.start();
    const pids = group.pids();
    expect(group.processes.map((p) => [p.rank, p.template, typeof p.pid])).toEqual([
      [0, 0, 'number'],
      [1, 1, 'number'],
      [2, 1, 'number'],
    ]);
    const lines = await collect(group.processes[0].stdout);
    expect(await group.join()).toBe(true);
    const payload = 'a'.repeat(3000);
    expect(lines).toEqual(Array.from({ length: 500 }, (_, i) => `0 3 ${i} ${payload}`));
    expect(group.processes.map((p) => p.exitCode)).toEqual([0, 0, 0]);
    expect(pids.filter(alive)).toEqual([]);
  }, 60_000);

  test('stop() of a running step leaves nothing', async () => {
    await nodeIdle();
    const waiting = new ProcessGroup({ ...SRUN, graceMs: 5000 }).add({ nproc: 2, command: ranks, args: ['-1'], stdout: 'ignore' });
    await waiting.start();
    const pids = waiting.pids();
    expect(pids.length).toBe(1 + 2 * 2);
    await waiting.stop();
    expect(pids.filter(alive)).toEqual([]);
    expect(waiting.processes.every((p) => !p.running && p.exitCode !== 0)).toBe(true);
  }, 60_000);

  test('a rank that fails is reported with its exit code', async () => {
    await nodeIdle();
    const failing = new ProcessGroup(SRUN).add({ nproc: 2, command: ranks, args: ['-1', '1', '1', '9'], stderr: 'ignore' });
    await failing.start();
    const pids = failing.pids();
    await failing.join();
    expect(failing.processes[1]).toMatchObject({ exitCode: 9, signal: null });
    expect(failing.processes[0].exitCode === 0 && failing.processes[0].signal === null).toBe(false);
    expect(pids.filter(alive)).toEqual([]);
  }, 60_000);

  // MPICH's ranks start as singletons (worlds of 1) under --mpi=pmix and join through Slurm's PMI-2.
  test("MPICH ranks (mpiImpl: 'mpich'): one srun --mpi=pmi2 step, 3 ranks of two templates, one world of 3", async () => {
    await nodeIdle();
    const group = new ProcessGroup({ ...SRUN, mpiImpl: 'mpich' })
      .add({ nproc: 1, command: mpich!.ranks, args: ['2', '3'], stdout: 'pipe' })
      .add({ nproc: 2, command: mpich!.ranks, args: ['1', '4'], stdout: 'pipe' });
    await group.start();
    const pids = group.pids();
    const lines = await Promise.all(group.processes.map((p) => collect(p.stdout)));
    expect(await group.join()).toBe(true);
    expect(lines).toEqual([['0 3 0 aaa', '0 3 1 aaa'], ['1 3 0 bbbb'], ['2 3 0 cccc']]);
    expect(group.processes.map((p) => [p.exitCode, p.signal])).toEqual([
      [0, null],
      [0, null],
      [0, null],
    ]);
    expect(pids.filter(alive)).toEqual([]);
  }, 60_000);
});
