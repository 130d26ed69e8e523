import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { join } from 'node:path';
import { D4Error } from '@d4/core';
import { ProcessGroup, multiJoin, type ProcessGroupOptions } from '../src/index.js';
import { alive, buildRanks, collect, startChecked } from './process-group-helpers.js';

const MPI: ProcessGroupOptions = { mpi: true, launcher: 'mpiexec', mpiexecArgs: ['--oversubscribe'] };

let dir: string;
let ranks: string;
let remove: () => void;
beforeAll(() => {
  ({ dir, ranks, remove } = buildRanks());
});
afterAll(() => remove());

const startGroup = startChecked();

describe('an MPI group: one mpiexec job, one world', () => {
  test('3 ranks with the head piped and the others ignored: every line of the head, whole, untagged, in order (20 MB)', async () => {
    const width = 10_000;
    const group = new ProcessGroup(MPI)
      .add({ nproc: 1, command: ranks, args: ['2000', String(width)], stdout: 'pipe' })
      .add({ nproc: 2, command: ranks, args: ['2000', String(width)], stdout: 'ignore' });
    await startGroup(group);
    expect(group.processes.map((p) => [p.rank, p.template, typeof p.pid, typeof p.host])).toEqual([
      [0, 0, 'number', 'string'],
      [1, 1, 'number', 'string'],
      [2, 1, 'number', 'string'],
    ]);
    expect(group.processes[1].stdout).toBeUndefined();
    const lines = await collect(group.processes[0].stdout);
    expect(await group.join()).toBe(true);
    expect(lines).toHaveLength(2000);
    const payload = 'a'.repeat(width);
    lines.forEach((line, i) => {
      if (line !== `0 3 ${i} ${payload}`) throw new Error(`line ${i} is not whole: ${JSON.stringify(line.slice(0, 60))}… (${line.length} chars)`);
    });
    expect(group.processes.map((p) => [p.exitCode, p.signal])).toEqual([
      [0, null],
      [0, null],
      [0, null],
    ]);
  });

  test('every rank of a piped template has its own lines; env and cwd reach the program', async () => {
    const group = new ProcessGroup(MPI)
      .add({ nproc: 2, command: ranks, args: ['3', '4'], stdout: 'pipe' })
      .add({ nproc: 1, command: ranks, args: ['1', '2'], cwd: dir, env: { D4_SAY: 'hello' }, stdout: 'pipe' });
    await startGroup(group);
    const [r0, r1, r2] = await Promise.all(group.processes.map((p) => collect(p.stdout)));
    await group.join();
    expect(r0).toEqual(['0 3 0 aaaa', '0 3 1 aaaa', '0 3 2 aaaa']);
    expect(r1).toEqual(['1 3 0 bbbb', '1 3 1 bbbb', '1 3 2 bbbb']);
    expect(r2).toEqual([`hello from ${dir}`, '2 3 0 cc']);
  });

  test('a rank that fails is reported with its exit code', async () => {
    const group = new ProcessGroup(MPI).add({ nproc: 3, command: ranks, args: ['-1', '1', '1', '7'], stdout: 'ignore', stderr: 'ignore' });
    await startGroup(group);
    expect(await group.join()).toBe(true);
    expect(group.processes[1]).toMatchObject({ exitCode: 7, signal: null });
    // mpiexec ends the other ranks of the job when one fails.
    for (const p of [group.processes[0], group.processes[2]]) expect(p.exitCode === 0 && p.signal === null).toBe(false);
  });

  test('a program that does not exist: its ranks end with 127', async () => {
    const group = new ProcessGroup(MPI).add({ nproc: 2, command: join(dir, 'no-such-program'), stderr: 'pipe' });
    await startGroup(group);
    const errors = await collect(group.processes[0].stderr);
    await group.join();
    expect(group.processes[0].exitCode).toBe(127);
    expect(errors.join('\n')).toContain('no-such-program');
  });

  test('stop() ends every rank, mpiexec and the wrappers', async () => {
    const group = new ProcessGroup({ ...MPI, graceMs: 5000 }).add({ nproc: 3, command: ranks, args: ['-1'] });
    await startGroup(group);
    const pids = group.pids();
    expect(pids.length).toBe(1 + 3 * 2);
    expect(pids.every(alive)).toBe(true);
    await group.stop();
    expect(pids.filter(alive)).toEqual([]);
    expect(group.processes.every((p) => !p.running && (p.signal !== null || (p.exitCode ?? 0) !== 0))).toBe(true);
  });

  test('restart: the whole job runs again, its lines continue, up to the limit', async () => {
    const group = new ProcessGroup({ ...MPI, restart: true, maxRestarts: 2 }).add({ nproc: 2, command: ranks, args: ['2', '1'], stdout: 'pipe' });
    await startGroup(group);
    const lines = await collect(group.processes[0].stdout);
    await group.join();
    expect(lines).toEqual(['0 2 0 a', '0 2 1 a', '0 2 0 a', '0 2 1 a', '0 2 0 a', '0 2 1 a']);
    expect(group.processes.map((p) => p.restarts)).toEqual([2, 2]);
  });

  test('mpiexec that cannot be found is refused at start()', async () => {
    const error = await new ProcessGroup({ ...MPI, mpiexec: join(dir, 'no-mpiexec') }).add({ command: ranks }).start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(D4Error);
    expect(error).toMatchObject({ code: 'D4_PROCESS_START', message: expect.stringContaining(`${join(dir, 'no-mpiexec')} cannot start the group's MPI job (ENOENT: install Open MPI`) });
  });
});

describe('independent processes', () => {
  test('exit codes and signals per process', async () => {
    const group = new ProcessGroup()
      .add({ command: 'sh', args: ['-c', 'exit 3'] })
      .add({ command: 'sh', args: ['-c', 'kill -USR1 $$'] })
      .add({ nproc: 2, command: 'true' });
    await startGroup(group);
    await group.join();
    expect(group.processes.map((p) => [p.rank, p.exitCode, p.signal])).toEqual([
      [0, 3, null],
      [1, null, 'SIGUSR1'],
      [2, 0, null],
      [3, 0, null],
    ]);
  });

  test('lines arrive whole, without a carriage return or colour codes unless raw', async () => {
    const script = 'printf "\\033[1;31mred\\033[0m\\r\\npart"; sleep 0.05; printf "ial line\\nno newline at the end"';
    const group = new ProcessGroup().add({ command: 'bash', args: ['-c', script], stdout: 'pipe' }).add({ command: 'bash', args: ['-c', script], stdout: 'pipe', raw: true });
    await startGroup(group);
    const [clean, raw] = await Promise.all(group.processes.map((p) => collect(p.stdout)));
    await group.join();
    expect(clean).toEqual(['red', 'partial line', 'no newline at the end']);
    expect(raw).toEqual(['\x1b[1;31mred\x1b[0m\r', 'partial line', 'no newline at the end']);
  });

  test('stop(): SIGTERM, then SIGKILL after the grace period for a process that ignores it', async () => {
    const group = new ProcessGroup({ graceMs: 300 })
      .add({ command: 'sleep', args: ['1000'] })
      .add({ command: process.execPath, args: ['-e', "process.on('SIGTERM', () => console.log('ignored')); console.log('ready'); setInterval(() => {}, 1000)"], stdout: 'pipe' });
    await startGroup(group);
    const lines = group.processes[1].stdout![Symbol.asyncIterator]();
    expect(await lines.next()).toEqual({ value: 'ready', done: false });
    const pids = group.pids();
    await group.stop();
    expect(group.processes.map((p) => p.signal)).toEqual(['SIGTERM', 'SIGKILL']);
    expect(await lines.next()).toEqual({ value: 'ignored', done: false });
    expect(pids.filter(alive)).toEqual([]);
  });

  test('restart up to the limit, then the last exit stays', async () => {
    const group = new ProcessGroup({ restart: true, maxRestarts: 2 }).add({ command: 'sh', args: ['-c', 'echo run; exit 4'], stdout: 'pipe' });
    await startGroup(group);
    const lines = await collect(group.processes[0].stdout);
    await group.join();
    expect(lines).toEqual(['run', 'run', 'run']);
    expect(group.processes[0]).toMatchObject({ restarts: 2, exitCode: 4 });
  });

  test('join with a timeout gives up and leaves the processes running', async () => {
    const group = new ProcessGroup().add({ command: 'sleep', args: ['1000'] });
    await startGroup(group);
    expect(await group.join({ timeout: 50 })).toBe(false);
    expect(group.processes[0].running).toBe(true);
    await group.stop();
    expect(await group.join()).toBe(true);
  });

  test('a command that does not exist is refused at start(), and the others are stopped', async () => {
    const group = new ProcessGroup().add({ command: 'sleep', args: ['1000'] }).add({ command: 'no-such-command-d4' });
    const error = await group.start().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'D4_PROCESS_START', message: expect.stringContaining('process 1 of the group (template 1) cannot start "no-such-command-d4": ENOENT') });
    expect(group.processes[0].done).toBe(true);
    expect(alive(group.processes[0].pid!)).toBe(false);
  });

  test('bad templates and calls in the wrong order', async () => {
    expect(() => new ProcessGroup().add({ command: '' })).toThrow(expect.objectContaining({ code: 'D4_PROCESS_GROUP', message: expect.stringContaining('template 0 of the ProcessGroup has no command') }));
    expect(() => new ProcessGroup().add({ command: 'x', nproc: 0 })).toThrow(expect.objectContaining({ code: 'D4_PROCESS_GROUP', message: expect.stringContaining('has nproc 0') }));
    expect(() => new ProcessGroup().add({ command: 'x', stdout: 'file' as never })).toThrow(expect.objectContaining({ message: expect.stringContaining(`stdout: "file"; use 'pipe', 'inherit' or 'ignore'`) }));
    await expect(new ProcessGroup().start()).rejects.toMatchObject({ code: 'D4_PROCESS_GROUP', message: expect.stringContaining('with no processes') });
    const group = new ProcessGroup().add({ command: 'true' });
    await expect(group.join()).rejects.toMatchObject({ code: 'D4_PROCESS_GROUP' });
    await startGroup(group);
    expect(() => group.add({ command: 'true' })).toThrow(expect.objectContaining({ message: expect.stringContaining('add() after start()') }));
    await expect(group.start()).rejects.toMatchObject({ message: expect.stringContaining('start() was called twice') });
    await group.join();
  });
});

describe('multiJoin: the first of several to end', () => {
  test('groups: the one that ends is done, the other pending', async () => {
    const quick = await startGroup(new ProcessGroup().add({ command: 'true' }));
    const slow = await startGroup(new ProcessGroup().add({ command: 'sleep', args: ['1000'] }));
    const { done, pending } = await multiJoin([slow, quick]);
    expect(done).toEqual([quick]);
    expect(pending).toEqual([slow]);
    expect(await multiJoin([slow], { timeout: 30 })).toEqual({ done: [], pending: [slow] });
    await slow.stop();
    expect((await multiJoin([slow, quick], { all: true })).pending).toEqual([]);
  });

  test('processes of one MPI job and of another group', async () => {
    const mpi = await startGroup(new ProcessGroup(MPI).add({ nproc: 2, command: ranks, args: ['1'], stdout: 'ignore' }));
    const sleeper = await startGroup(new ProcessGroup().add({ command: 'sleep', args: ['1000'] }));
    const { done, pending } = await multiJoin([...sleeper.processes, ...mpi.processes]);
    expect(done.map((p) => p.rank).sort()).toEqual([0, 1]);
    expect(done.every((p) => mpi.processes.includes(p))).toBe(true);
    expect(pending).toEqual([sleeper.processes[0]]);
    await sleeper.stop();
  });
});
