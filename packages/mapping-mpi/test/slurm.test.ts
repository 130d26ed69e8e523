import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
// The executor's one-node SLURM (real slurmctld and slurmd on free ports of 127.0.0.1),
// imported where it lives rather than moved: the executor's tests use it too.
import { startSlurm, type SlurmCluster } from '../../executor/test/slurm-cluster.js';
import { d4Bin, fixtures, graphTesting, run, slurmStepsSeen } from './helpers.js';

/**
 * Inside a SLURM allocation (salloc sets SLURM_JOB_ID), `d4 run mpi` launches its ranks
 * with `srun --mpi=pmix` instead of mpiexec. The test SLURM has 2 CPUs: more ranks than
 * that need --overcommit, for salloc and (through --mpiexec-args) for srun.
 */
describe('d4 run mpi inside a SLURM allocation (srun --mpi=pmix)', () => {
  let cluster: SlurmCluster;
  beforeAll(async () => {
    cluster = await startSlurm();
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  }, 60_000);

  const inAllocation = (args: readonly string[]) => run('salloc', ['-n', '2', '--overcommit', process.execPath, d4Bin, ...args], cluster.env);

  it('prints what simple prints for pipeline_test, its six ranks started by srun', async () => {
    const pipeline = `${graphTesting}pipeline_test.ts`;
    const simple = await run(process.execPath, [d4Bin, 'run', 'simple', pipeline, '-i', '20']);
    const r = await inAllocation(['run', 'mpi', pipeline, '-n', '6', '-i', '20', '--mpiexec-args', '--overcommit']);
    expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 0, stdout: simple.stdout });
    expect(simple.stdout).toContain('TestOneInOneOut5.output: [');
  }, 120_000);

  it("every item is processed once, by ranks 1 to 3 of one srun step of the allocation's job", async () => {
    const r = await inAllocation(['run', 'mpi', fixtures, '-a', 'slurmSteps', '-i', '90', '-n', '4', '--mpiexec-args', '--overcommit', '--results', 'json']);
    expect(r.code).toBe(0);
    const { values, jobs, steps, tasks } = slurmStepsSeen(r.stdout);
    expect(values).toEqual(Array.from({ length: 90 }, (_, i) => i));
    // One job and one step of it, each a SLURM id.
    expect([...jobs, ...steps]).toEqual([expect.stringMatching(/^\d+$/), expect.stringMatching(/^\d+$/)]);
    expect(tasks).toEqual(new Set(['1', '2', '3']));
  }, 120_000);
});
