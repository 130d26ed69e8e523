import { availableParallelism } from 'node:os';
import { describe, expect, it } from '@jest/globals';
import { d4Bin, fixtures, graphTesting, mpiexec, run } from './helpers.js';

const pipeline = `${graphTesting}pipeline_test.ts`;

describe('d4 run mpi from the command line', () => {
  it('d4 starts mpiexec itself (-n once) and prints what simple prints', async () => {
    const simple = await run(process.execPath, [d4Bin, 'run', 'simple', pipeline, '-i', '5']);
    const r = await run(process.execPath, [d4Bin, 'run', 'mpi', pipeline, '-n', '6', '-i', '5']);
    expect(r).toEqual({ code: 0, stdout: simple.stdout, stderr: '' });
    expect(simple.stdout).toContain('TestOneInOneOut5.output: [');
  });

  it('d4 run mpi -n 6 --processes 2: six PE instances on two ranks print what simple prints', async () => {
    const simple = await run(process.execPath, [d4Bin, 'run', 'simple', pipeline, '-i', '500']);
    const r = await run(process.execPath, [d4Bin, 'run', 'mpi', pipeline, '-n', '6', '--processes', '2', '-i', '500', '--verbose']);
    expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 0, stdout: simple.stdout });
    expect(r.stderr).toMatch(/^mpi: 6 PE instances on 2 MPI ranks; /);
    expect(r.stderr).toContain('TestOneInOneOut5: 1 instance, 500 calls, 500 writes');
  });

  it('under mpiexec, every rank runs d4 and only rank 0 prints the results, once', async () => {
    const simple = await run(process.execPath, [d4Bin, 'run', 'simple', pipeline, '-i', '5']);
    const r = await mpiexec(6, [process.execPath, d4Bin, 'run', 'mpi', pipeline, '-i', '5']);
    expect(r).toEqual({ code: 0, stdout: simple.stdout, stderr: '' });
  });

  it("under mpiexec, PEs' log lines come out whole and nothing is in colour codes on mpiexec's pty", async () => {
    const r = await mpiexec(3, [process.execPath, d4Bin, 'run', 'mpi', fixtures, '-a', 'chatty', '-i', '200', '--results', 'none']);
    expect(r.code).toBe(0);
    const logs = r.stderr.split('\n').filter((line) => line !== '');
    expect(logs.filter((line) => !/^Chat1 \(rank [01]\): item \d+ says hello$/.test(line))).toEqual([]);
    expect(logs.map((line) => Number(/item (\d+)/.exec(line)![1])).sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    // console.log from the PEs on ranks 1 and 2 goes through mpiexec's pty, without ANSI colours.
    const printed = r.stdout.split(/\r?\n/).filter((line) => line !== '');
    expect(printed.filter((line) => !/^\{ printed: \d+ \}$/.test(line))).toEqual([]);
    expect(printed.length).toBe(200);
  });

  it("d4 run mpi: the ranks' console.log reaches d4's stdout in plain lines (no pty carriage returns, no colour codes), the log() lines its stderr", async () => {
    const r = await run(process.execPath, [d4Bin, 'run', 'mpi', fixtures, '-a', 'chatty', '-i', '100', '-n', '3', '--results', 'none']);
    expect(r.code).toBe(0);
    const printed = r.stdout.split('\n');
    expect(printed.pop()).toBe('');
    expect(printed.filter((line) => !/^\{ printed: \d+ \}$/.test(line))).toEqual([]);
    expect(printed.length).toBe(100);
    const logs = r.stderr.split('\n').filter((line) => line !== '');
    expect(logs.filter((line) => !/^Chat1 \(rank [01]\): item \d+ says hello$/.test(line))).toEqual([]);
    expect(logs.length).toBe(100);
  });

  it('under mpiexec, a -n that differs from the ranks started is refused, once, with what to do', async () => {
    const r = await mpiexec(3, [process.execPath, d4Bin, 'run', 'mpi', fixtures, '-a', 'chatty', '-i', '5', '-n', '4']);
    expect(r.code).not.toBe(0);
    const lines = r.stderr.split('\n').filter((line) => line.startsWith('d4: '));
    expect(lines).toEqual(['d4: -n 4 was given, but mpiexec started 3 ranks; under mpiexec the run takes its size from MPI: leave -n out, or start mpiexec with -n 4 (D4_MPI_SIZE)']);
  });

  it('under mpiexec, a --processes that differs from the ranks started is refused, once, with what to do', async () => {
    const r = await mpiexec(3, [process.execPath, d4Bin, 'run', 'mpi', fixtures, '-a', 'chatty', '-i', '5', '--processes', '2']);
    expect(r.code).not.toBe(0);
    const lines = r.stderr.split('\n').filter((line) => line.startsWith('d4: '));
    expect(lines).toEqual(['d4: --processes 2 was given, but mpiexec started 3 ranks; under mpiexec each rank hosts one PE instance: leave --processes out, or start mpiexec with -n 2 (D4_MPI_SIZE)']);
  });

  it('under mpiexec, a PE that throws on rank 2 is reported once by rank 0, then MPI_Abort ends every rank with a non-zero exit', async () => {
    const r = await mpiexec(3, [process.execPath, d4Bin, 'run', 'mpi', fixtures, '-a', 'failing', '--args', '{"bad":4}', '-i', '30']);
    expect(r.code).not.toBe(0);
    expect(r.stdout.replace(/\r/g, '')).toBe('');
    const lines = r.stderr.split('\n').filter((line) => line.startsWith('d4: '));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^d4: PE FailOn2 failed while processing \{"input":4\}: item 4 is bad \(on rank 2, host \S+\) \(D4_PE_FAILED\)$/);
  });

  it("d4 run mpi on this host: the ranks run Open MPI's ob1 layer, no yield inside MPI calls, and V8 without background threads beyond the cores", async () => {
    const r = await run(process.execPath, [d4Bin, 'run', 'mpi', fixtures, '-a', 'settings', '-n', '3', '--processes', '3', '-i', '40', '--results', 'json']);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    const seen = (JSON.parse(r.stdout) as { outputs: { Settings1: { output: Array<[number, string | null, string | null, string[]]> } } }).outputs.Settings1.output;
    expect(seen.map(([n]) => n).sort((x, y) => x - y)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    const cores = availableParallelism();
    const flags = 3 > cores ? ['--single-threaded'] : 3 === cores ? ['--no-concurrent-recompilation'] : [];
    expect(new Set(seen.map(([, ...rest]) => JSON.stringify(rest)))).toEqual(new Set([JSON.stringify(['ob1', '0', flags])]));
  });

  it('d4 list says that MPI was found, and where', async () => {
    const r = await run(process.execPath, [d4Bin, 'list']);
    const at = r.stdout.split('\n').findIndex((line) => line.startsWith('mpi '));
    expect(r.stdout.split('\n')[at]).toBe('mpi             installed  [@d4/mapping-mpi]  runs stateful PEs');
    expect(r.stdout.split('\n')[at + 1]).toMatch(/ MPI found: \/\S+\/mpiexec \(mpiexec \(OpenRTE\) [\d.]+\)$/);
  });
});
