import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { D4Error } from '@d4/core';
import { ProcessGroup } from '../src/index.js';
import { srunArgv } from '../src/process-group/wrapper.js';
import { buildRanks, collect, startChecked } from './process-group-helpers.js';

// MPI groups of programs built against MPICH, started by MPICH's own mpiexec (Hydra,
// /usr/bin/mpiexec.mpich): before, the group gave it Open MPI's --allow-run-as-root (as root)
// and its ranks, which have PMI_RANK and no OMPI_COMM_WORLD_RANK, all took rank 0.
let dir: string;
let ranks: string;
let remove: () => void;
beforeAll(() => {
  ({ dir, ranks, remove } = buildRanks('mpicc.mpich'));
});
afterAll(() => remove());

const startGroup = startChecked();

/** Each rank's piped lines, in rank order. */
async function linesOf(group: ProcessGroup): Promise<string[][]> {
  return Promise.all(group.processes.map((p) => collect(p.stdout)));
}

describe('an MPI group under MPICH: one mpiexec.mpich job, one world', () => {
  test('3 ranks of two templates (MPMD): each rank its own lines with its rank and a world of 3, exit codes 0', async () => {
    const group = new ProcessGroup({ mpi: true, mpiexec: 'mpiexec.mpich' })
      .add({ nproc: 1, command: ranks, args: ['2', '3'], stdout: 'pipe' })
      .add({ nproc: 2, command: ranks, args: ['3', '4'], cwd: dir, env: { D4_SAY: 'hello' }, stdout: 'pipe' });
    await startGroup(group);
    expect(group.processes.map((p) => [p.rank, p.template, typeof p.pid])).toEqual([
      [0, 0, 'number'],
      [1, 1, 'number'],
      [2, 1, 'number'],
    ]);
    const lines = await linesOf(group);
    expect(await group.join()).toBe(true);
    expect(lines).toEqual([
      ['0 3 0 aaa', '0 3 1 aaa'],
      [`hello from ${dir}`, '1 3 0 bbbb', '1 3 1 bbbb', '1 3 2 bbbb'],
      [`hello from ${dir}`, '2 3 0 cccc', '2 3 1 cccc', '2 3 2 cccc'],
    ]);
    expect(group.processes.map((p) => [p.exitCode, p.signal])).toEqual([
      [0, null],
      [0, null],
      [0, null],
    ]);
  }, 60_000);

  // As on a machine whose `mpiexec` alternative is MPICH's: the default 'mpiexec', found on
  // PATH, is a link to /usr/bin/mpiexec.mpich (itself a link to mpiexec.hydra).
  test("PATH's mpiexec, a link to MPICH's: the group follows the file it resolves to", async () => {
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    symlinkSync('/usr/bin/mpiexec.mpich', join(bin, 'mpiexec'));
    // Hydra starts its proxy from the folder of the name it was run by.
    symlinkSync('/usr/bin/hydra_pmi_proxy', join(bin, 'hydra_pmi_proxy'));
    const path = process.env.PATH;
    process.env.PATH = `${bin}${delimiter}${path}`;
    try {
      const group = new ProcessGroup({ mpi: true, launcher: 'mpiexec' }).add({ nproc: 3, command: ranks, args: ['1', '1'], stdout: 'pipe' });
      await startGroup(group);
      const lines = await linesOf(group);
      expect(await group.join()).toBe(true);
      expect(lines).toEqual([['0 3 0 a'], ['1 3 0 b'], ['2 3 0 c']]);
    } finally {
      process.env.PATH = path;
    }
  }, 60_000);

  test("mpiImpl: 'mpich' for an mpiexec whose name does not say (a site's wrapper script)", async () => {
    const wrapper = join(dir, 'site-mpirun');
    writeFileSync(wrapper, '#!/bin/sh\nexec mpiexec.mpich "$@"\n');
    chmodSync(wrapper, 0o755);
    const group = new ProcessGroup({ mpi: true, mpiexec: wrapper, mpiImpl: 'mpich' }).add({ nproc: 2, command: ranks, args: ['1', '2'], stdout: 'pipe' });
    await startGroup(group);
    const lines = await linesOf(group);
    expect(await group.join()).toBe(true);
    expect(lines).toEqual([['0 2 0 aa'], ['1 2 0 bb']]);
    expect(group.processes.map((p) => p.exitCode)).toEqual([0, 0]);
  }, 60_000);

  test('a rank that fails is reported with its exit code; Hydra ends the others', async () => {
    const group = new ProcessGroup({ mpi: true, mpiexec: 'mpiexec.mpich' })
      .add({ nproc: 1, command: ranks, args: ['1', '2', '0', '5'], stdout: 'ignore' })
      .add({ nproc: 2, command: ranks, args: ['-1'], stdout: 'ignore' });
    await startGroup(group);
    expect(await group.join()).toBe(true);
    expect(group.processes[0].exitCode).toBe(5);
    // Hydra kills the other ranks, wrappers and all, with SIGKILL: ranks that never reported
    // their end take the job's exit code, which Hydra gives as 9 (its kill) or, when it saw
    // the failed rank's code first, as that code (5): seen both ways in CI.
    const others = group.processes.slice(1).map((p) => [p.running, p.exitCode, p.signal]);
    expect([9, 5].map((code) => [[false, code, null], [false, code, null]])).toContainEqual(others);
  }, 60_000);

  test("Open MPI's flags in mpiexecArgs for MPICH's mpiexec are refused at start(), naming them; nothing starts", async () => {
    const group = new ProcessGroup({ mpi: true, mpiexec: 'mpiexec.mpich', mpiexecArgs: ['--oversubscribe', '-n', '1'] }).add({ command: ranks });
    const error = await group.start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(D4Error);
    expect(error).toMatchObject({
      code: 'D4_PROCESS_GROUP',
      message:
        "ProcessGroup option mpiexecArgs has --oversubscribe, which only Open MPI's mpiexec knows; this group's mpiexec (mpiexec.mpich) is MPICH's, which runs any number of ranks and runs as root without it: leave it out (or set mpiImpl: 'openmpi' if mpiexec.mpich is Open MPI's)",
    });
    expect(group.pids()).toEqual([]);
    expect(group.done).toBe(true);
  });

  test('a bad mpiImpl is refused by the constructor, naming the option and the values', () => {
    expect(() => new ProcessGroup({ mpi: true, mpiImpl: 'intel' as 'mpich' })).toThrow(
      expect.objectContaining({ code: 'D4_PROCESS_GROUP', message: `ProcessGroup option mpiImpl must be 'openmpi' or 'mpich', got "intel"` }),
    );
  });
});

describe("srun's MPI plugin", () => {
  const callback = { host: '127.0.0.1', port: 1, token: 't' };
  const plugins = (argv: string[]) => argv.filter((arg) => arg.startsWith('--mpi'));
  test('pmix for Open MPI, pmi2 for MPICH', () => {
    expect(plugins(srunArgv(3, callback, [], 'openmpi'))).toEqual(['--mpi=pmix']);
    expect(plugins(srunArgv(3, callback, [], 'mpich'))).toEqual(['--mpi=pmi2']);
  });
  test("the user's own --mpi in srunArgs replaces d4's", () => {
    expect(plugins(srunArgv(3, callback, ['--mpi=pmi2'], 'openmpi'))).toEqual(['--mpi=pmi2']);
    expect(plugins(srunArgv(3, callback, ['--overcommit', '--mpi', 'none'], 'mpich'))).toEqual(['--mpi']);
  });
});
