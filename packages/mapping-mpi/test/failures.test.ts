import { describe, expect, it } from '@jest/globals';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { PEError } from '@d4/core';
import { mappings } from '../src/index.js';
import { d4Bin, fixtures, run, workflow } from './helpers.js';

/** What Open MPI prints unasked, which d4 keeps from the user. */
const NOISE = /Read -1, expected|MPI_ABORT was invoked|mpiexec noticed|-{20,}|ORTE_ERROR_LOG|\[warn\]/;

describe('failures end every rank with a clear error, never a hang', () => {
  it('a PE that throws on rank 2 fails the run with its id, the item and the rank', async () => {
    const error = await mappings.mpi.run(await workflow('failing', { bad: 7 }), { '*': 50 }, { numProcesses: 3, processes: 3 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PEError);
    expect(error).toMatchObject({ code: 'D4_PE_FAILED', peId: 'FailOn2', item: { input: 7 }, phase: 'process', rank: 2 });
    expect((error as PEError).message).toMatch(/^PE FailOn2 failed while processing \{"input":7\}: item 7 is bad \(on rank 2, host \S+\)$/);
    expect((error as PEError).peStack).toContain('workflows.ts');
  });

  it('a PE that throws while another rank is stuck in a synchronous loop still ends every rank (MPI_Abort)', async () => {
    const error = await mappings.mpi.run(await workflow('stuckAndFailing', { bad: 3 }), { '*': 20 }, { numProcesses: 3, processes: 3 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'D4_PE_FAILED', peId: 'FailOn2', item: { input: 3 }, rank: 2 });
  });

  it('a rank killed with SIGKILL ends the run with an error naming the rank and the host', async () => {
    const error = await mappings.mpi.run(await workflow('killing', { at: 20 }), { '*': 1000 }, { numProcesses: 3, processes: 3 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'D4_MPI_RANK_DIED' });
    expect((error as Error).message).toMatch(/^rank 2 of 3 \(host \S+\) died: it exited on signal 9 \(Killed\) before the run was over, so mpiexec ended every rank; the run's results are lost$/);
  });

  it('d4 run mpi: the failure is one line on stderr with the code, none of Open MPI\'s banners, exit code 1', async () => {
    const r = await run(process.execPath, [d4Bin, 'run', 'mpi', fixtures, '-a', 'failing', '--args', '{"bad":4}', '-i', '30', '-n', '3', '--processes', '3']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n')[0]).toMatch(/^d4: PE FailOn2 failed while processing \{"input":4\}: item 4 is bad \(on rank 2, host \S+\) \(D4_PE_FAILED\)$/);
    expect(r.stderr).not.toMatch(NOISE);
  });

  it('d4 run mpi: a killed rank is one line on stderr, exit code 1', async () => {
    const r = await run(process.execPath, [d4Bin, 'run', 'mpi', fixtures, '-a', 'killing', '--args', '{"at":5}', '-i', '1000', '-n', '3', '--processes', '3']);
    expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 1, stdout: '' });
    expect(r.stderr).toMatch(/^d4: rank 2 of 3 \(host \S+\) died: it exited on signal 9 \(Killed\) before the run was over, so mpiexec ended every rank; the run's results are lost \(D4_MPI_RANK_DIED\)\n$/);
  });

  it('an mpiexec that ignores SIGTERM after the run failed is killed, and the run still ends with its error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'd4-mpi-stuck-'));
    const saved = { PATH: process.env.PATH, pidFile: process.env.D4_TEST_PID_FILE };
    try {
      // An mpiexec that hangs as Open MPI's once did here: alive, deaf to SIGTERM.
      writeFileSync(join(dir, 'mpiexec'), `#!/bin/sh\ntrap '' TERM\necho $$ > "$D4_TEST_PID_FILE"\nwhile :; do sleep 0.2; done\n`);
      chmodSync(join(dir, 'mpiexec'), 0o755);
      process.env.PATH = `${dir}${delimiter}${process.env.PATH}`;
      process.env.D4_TEST_PID_FILE = join(dir, 'pid');
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 500);
      const error = await mappings.mpi.run(await workflow('failing', { bad: 1 }), { '*': 5 }, { numProcesses: 3, signal: controller.signal }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'D4_ABORTED' });
      const pid = Number(readFileSync(join(dir, 'pid'), 'utf8'));
      expect(() => process.kill(pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
    } finally {
      process.env.PATH = saved.PATH;
      if (saved.pidFile === undefined) delete process.env.D4_TEST_PID_FILE;
      else process.env.D4_TEST_PID_FILE = saved.pidFile;
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it('a hostfile that does not exist is refused before mpiexec starts', async () => {
    const error = await mappings.mpi.run(await workflow('failing', { bad: 1 }), { '*': 5 }, { numProcesses: 3, hostfile: 'no-such-hosts.txt' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'D4_MPI_OPTION' });
    expect((error as Error).message).toMatch(/^--hostfile no-such-hosts\.txt: there is no such file \(\/.*\/no-such-hosts\.txt\); give mpiexec's hostfile, one host a line/);
  });

  it('a PE that throws on a rank it shares with another PE is named with that rank', async () => {
    // -n 3 on 2 ranks: Numbers and Identity (neighbours) share rank 0, FailOn2 runs on rank 1.
    const error = await mappings.mpi.run(await workflow('failing', { bad: 7 }), { '*': 50 }, { numProcesses: 3, processes: 2 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'D4_PE_FAILED', peId: 'FailOn2', item: { input: 7 }, phase: 'process', rank: 1 });
    expect((error as PEError).message).toMatch(/^PE FailOn2 failed while processing \{"input":7\}: item 7 is bad \(on rank 1, host \S+\)$/);
  });

  it('too few processes is refused before mpiexec starts', async () => {
    await expect(mappings.mpi.run(await workflow('failing', { bad: 1 }), { '*': 5 }, { numProcesses: 2 })).rejects.toMatchObject({ code: 'D4_TOO_FEW_PROCESSES' });
  });
});
