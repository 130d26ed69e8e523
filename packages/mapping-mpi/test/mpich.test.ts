import { chmodSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
// A copy of @d4/mpi built against MPICH, made where @d4/mpi's own MPICH test makes it.
import { buildMpichCopy, removeMpichBuild } from '../../mpi/test/mpich-build.js';
// The executor's one-node SLURM, as slurm.test.ts uses it.
import { startSlurm, type SlurmCluster } from '../../executor/test/slurm-cluster.js';
import { launcherFlavour, requireLauncher } from '../src/launch/find-program.js';
import { d4Bin, fixtures, graphTesting, run, slurmStepsSeen } from './helpers.js';

const pipeline = `${graphTesting}pipeline_test.ts`;
let copy = '';

beforeAll(() => {
  copy = buildMpichCopy(`mapping-mpi-mpich-${process.pid}`);
}, 320_000);

afterAll(() => removeMpichBuild(copy));

/**
 * With @d4/mpi built against MPICH (D4_MPI_ADDON names that build here), `d4 run mpi`
 * starts MPICH's mpiexec (Hydra) with Hydra's options, and ranks started by
 * `mpiexec.mpich -n N d4 run mpi …` work as under Open MPI's.
 */
describe('the mpi mapping on MPICH', () => {
  it("tells the launchers apart: Debian's mpiexec is Open MPI's, mpiexec.mpich is Hydra", () => {
    expect(launcherFlavour('/usr/bin/mpiexec')).toBe('openmpi');
    expect(launcherFlavour('/usr/bin/mpiexec.mpich')).toBe('mpich');
    expect(requireLauncher('mpich')).toEqual({ path: '/usr/bin/mpiexec.mpich', flavour: 'mpich' });
    expect(requireLauncher('openmpi')).toEqual({ path: '/usr/bin/mpiexec', flavour: 'openmpi' });
    // A PATH with Open MPI's launcher only: an MPICH build is refused, naming what was found.
    const onlyOpenMpi = mkdtempSync(join(tmpdir(), 'd4-openmpi-only-'));
    try {
      symlinkSync('/usr/bin/orterun', join(onlyOpenMpi, 'mpiexec'));
      let refused: unknown;
      try {
        requireLauncher('mpich', onlyOpenMpi);
      } catch (error) {
        refused = error;
      }
      expect(refused).toMatchObject({ code: 'D4_MPIEXEC_NOT_FOUND', message: expect.stringContaining("MPICH's mpiexec (@d4/mpi was built against MPICH)") });
      expect((refused as Error).message).toContain(`found only ${join(onlyOpenMpi, 'mpiexec')} (Open MPI)`);
      // A launcher whose name says nothing is asked: a script that is not Hydra is refused.
      rmSync(join(onlyOpenMpi, 'mpiexec'));
      writeFileSync(join(onlyOpenMpi, 'mpiexec'), '#!/bin/sh\necho "some launcher 1.0"\n');
      chmodSync(join(onlyOpenMpi, 'mpiexec'), 0o755);
      expect(() => requireLauncher('mpich', onlyOpenMpi)).toThrow(`found only ${join(onlyOpenMpi, 'mpiexec')} (not Hydra)`);
      expect(requireLauncher('openmpi', onlyOpenMpi)).toEqual({ path: join(onlyOpenMpi, 'mpiexec'), flavour: 'openmpi' });
    } finally {
      rmSync(onlyOpenMpi, { recursive: true, force: true });
    }
  });

  it('d4 run mpi -n 6 starts mpiexec.mpich for an MPICH build and prints what simple prints', async () => {
    const simple = await run(process.execPath, [d4Bin, 'run', 'simple', pipeline, '-i', '50']);
    const r = await run(process.execPath, [d4Bin, 'run', 'mpi', pipeline, '-n', '6', '-i', '50'], { D4_MPI_ADDON: copy });
    expect(r).toEqual({ code: 0, stdout: simple.stdout, stderr: '' });
    expect(simple.stdout).toContain('TestOneInOneOut5.output: 50 values');
  }, 120_000);

  it('mpiexec.mpich -n 6 d4 run mpi: every rank runs d4 and only rank 0 prints the results', async () => {
    const simple = await run(process.execPath, [d4Bin, 'run', 'simple', pipeline, '-i', '50']);
    const r = await run('mpiexec.mpich', ['-n', '6', process.execPath, d4Bin, 'run', 'mpi', pipeline, '-i', '50'], { D4_MPI_ADDON: copy });
    expect(r).toEqual({ code: 0, stdout: simple.stdout, stderr: '' });
  }, 120_000);

  it('a PE that throws on a rank fails the run with its PE, item and rank, under MPICH too', async () => {
    const r = await run(process.execPath, [d4Bin, 'run', 'mpi', fixtures, '-a', 'failing', '--args', '{"bad":4}', '-i', '30', '-n', '3', '--processes', '3'], { D4_MPI_ADDON: copy });
    expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 1, stdout: '' });
    expect(r.stderr.split('\n')[0]).toMatch(/^d4: PE FailOn2 failed while processing \{"input":4\}: item 4 is bad \(on rank 2, host \S+\) \(D4_PE_FAILED\)$/);
  }, 120_000);

  it('a killed rank is one line on stderr naming its pid and host (Hydra names no rank), exit code 1', async () => {
    const r = await run(process.execPath, [d4Bin, 'run', 'mpi', fixtures, '-a', 'killing', '--args', '{"at":5}', '-i', '1000', '-n', '3', '--processes', '3'], { D4_MPI_ADDON: copy });
    expect(r.code).toBe(1);
    expect(r.stdout.trim()).toBe('');
    expect(r.stderr).toMatch(/^d4: a rank of 3 \(pid \d+, host \S+\) died: it exited on Killed \(signal 9\) before the run was over, so mpiexec ended every rank; the run's results are lost \(D4_MPI_RANK_DIED\)\n$/);
  }, 120_000);
});

/**
 * Inside a SLURM allocation an MPICH build is launched with Hydra as everywhere, and Hydra
 * starts its proxies with srun itself: the ranks run in one step of the allocation's job.
 * (`srun --mpi=pmix`, what Open MPI builds get, would start MPICH ranks as singletons, each
 * a world of size 1; Slurm's pmi2 would work, Hydra needs neither.)
 */
describe('the mpi mapping on MPICH inside a SLURM allocation', () => {
  let cluster: SlurmCluster;
  beforeAll(async () => {
    cluster = await startSlurm();
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  }, 60_000);

  it("every item is processed once, by ranks 1 to 3 in one srun step of the allocation's job", async () => {
    const r = await run('salloc', ['-n', '2', '--overcommit', process.execPath, d4Bin, 'run', 'mpi', fixtures, '-a', 'slurmSteps', '-i', '90', '-n', '4', '--results', 'json'], { ...cluster.env, D4_MPI_ADDON: copy });
    expect(r.code).toBe(0);
    const { values, jobs, steps } = slurmStepsSeen(r.stdout);
    expect(values).toEqual(Array.from({ length: 90 }, (_, i) => i));
    // One job and one step of it, each a SLURM id.
    expect([...jobs, ...steps]).toEqual([expect.stringMatching(/^\d+$/), expect.stringMatching(/^\d+$/)]);
  }, 120_000);
});
