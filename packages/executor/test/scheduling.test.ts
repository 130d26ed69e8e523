import { describe, expect, test } from '@jest/globals';
import { TaskQueue } from '../src/scheduling/task-queue.js';
import { InFlight } from '../src/scheduling/in-flight.js';
import { depthOf, leastLoaded, nextAverage, queueBound } from '../src/scheduling/block-dispatch.js';
import { fits, takeFitting, type Capacity } from '../src/scheduling/fresh-dispatch.js';
import { waitForDependencies } from '../src/scheduling/dependency-wiring.js';
import { resourcesFor, describeLaunch, chooseBackend, GpuPool } from '../src/resources.js';
import { resolveLauncher, resolveSettings } from '../src/options.js';
import { mpiexecLauncher, srunLauncher } from '../src/launch/slurm.js';
import { Executor } from '../src/executor.js';
import { Future } from '../src/future.js';
import { processBackend, threadBackend } from '../src/backend.js';

// The scheduling strategies and resources as plain data, without workers (in the manner of
// Piscina's balancer and task queue tests).

interface Item {
  name: string;
  done?: boolean;
}

describe('TaskQueue', () => {
  const queue = () => new TaskQueue<Item>((item) => item.done === true);

  test('takes in order, skipping items that finished while queued', () => {
    const q = queue();
    const [a, b, c] = [{ name: 'a' }, { name: 'b', done: true }, { name: 'c' }];
    q.push(a);
    q.push(b);
    q.push(c);
    const taken: string[] = [];
    for (let item = q.peek(); item; item = q.peek()) {
      taken.push(item.name);
      q.shift();
    }
    expect(taken).toEqual(['a', 'c']);
    expect(q.length).toBe(0);
  });

  test('a requeued item goes to the front, before the items behind the head', () => {
    const q = queue();
    for (const name of ['a', 'b', 'c']) q.push({ name });
    q.shift(); // a taken
    q.pushFront({ name: 'a-again' });
    q.pushFront({ name: 'first' });
    expect(q.pending().map((i) => i.name)).toEqual(['first', 'a-again', 'b', 'c']);
  });

  test('takeWhere keeps what it refuses, in order, and drops the done ones', () => {
    const q = queue();
    for (const [name, done] of [['big', false], ['x', true], ['s1', false], ['s2', false]] as const) q.push({ name, done });
    const started: string[] = [];
    q.takeWhere((item) => {
      if (item.name === 'big') return false;
      started.push(item.name);
      return true;
    });
    expect(started).toEqual(['s1', 's2']);
    expect(q.pending().map((i) => i.name)).toEqual(['big']);
  });

  test('compact after taking everything leaves an empty queue that still works', () => {
    const q = queue();
    for (let i = 0; i < 5000; i++) q.push({ name: String(i) });
    for (let i = 0; i < 5000; i++) q.shift();
    q.compact();
    expect(q.length).toBe(0);
    q.push({ name: 'next' });
    expect(q.peek()?.name).toBe('next');
  });
});

describe('InFlight', () => {
  const held = (n: number) => Array.from({ length: n }, (_, i) => ({ future: { id: i + 1 } }));

  test('takes results in the order the worker ran them, and one out of order, by id', () => {
    const tasks = held(5);
    const inflight = new InFlight<(typeof tasks)[number]>();
    for (const t of tasks) inflight.push(t);
    expect(inflight.takeById(1)).toBe(tasks[0]);
    expect(inflight.takeById(4)).toBe(tasks[3]);
    expect(inflight.takeById(4)).toBeUndefined();
    expect(inflight.first()).toBe(tasks[1]);
    expect(inflight.remove(tasks[4])).toBe(true);
    expect(inflight.remove(tasks[4])).toBe(false);
    expect(inflight.find((t) => t.future.id === 3)).toBe(tasks[2]);
    expect(inflight.toArray().map((t) => t.future.id)).toEqual([2, 3]);
    expect(inflight.length).toBe(2);
    expect(inflight.drain().map((t) => t.future.id)).toEqual([2, 3]);
    expect(inflight.length).toBe(0);
    expect(inflight.first()).toBeUndefined();
  });

  test('after thousands taken from the front it holds exactly the rest, in order', () => {
    const tasks = held(5000);
    const inflight = new InFlight<(typeof tasks)[number]>();
    for (const t of tasks) inflight.push(t);
    for (let id = 1; id <= 4000; id++) expect(inflight.takeById(id)?.future.id).toBe(id);
    expect(inflight.length).toBe(1000);
    expect(inflight.toArray().map((t) => t.future.id)).toEqual(tasks.slice(4000).map((t) => t.future.id));
  });
});

describe('block dispatch', () => {
  const worker = (inflight: number, avgMs: number | undefined) => ({ inflight: { length: inflight }, avgMs });

  test('an untimed worker holds one task; a fast one up to 2 ms of work, at most 512', () => {
    expect(depthOf(undefined)).toBe(1);
    expect(depthOf(1)).toBe(2);
    expect(depthOf(0.01)).toBe(200);
    expect(depthOf(0)).toBe(512);
    expect(depthOf(50)).toBe(1);
  });

  test('while the queue holds 2 048 tasks per worker or more, a fast worker may hold up to 2 048, still at most 2 ms of work', () => {
    expect(queueBound(4095, 2)).toBe(512);
    expect(queueBound(4096, 2)).toBe(2048);
    expect(queueBound(2048, 1)).toBe(2048);
    expect(depthOf(0, queueBound(4096, 2))).toBe(2000); // the measured time counts as 1 µs at least: 2 ms of it
    expect(depthOf(0.004, 2048)).toBe(500);
    expect(depthOf(0.01, 2048)).toBe(200);
    expect(depthOf(undefined, 2048)).toBe(1);
    expect(leastLoaded([worker(512, 0), worker(600, 0)])).toBeUndefined();
    expect(leastLoaded([worker(2048, 0), worker(600, 0)], 2048)).toEqual(worker(600, 0));
  });

  test('picks the least loaded worker with room, the first on a tie, none when all are full', () => {
    const a = worker(3, 0.01);
    const b = worker(1, 0.01);
    const c = worker(1, 0.01);
    expect(leastLoaded([a, b, c])).toBe(b);
    expect(leastLoaded([worker(1, undefined), worker(1, 5)])).toBeUndefined();
    const idle = worker(0, undefined);
    expect(leastLoaded([worker(1, undefined), idle])).toBe(idle);
  });

  test('the measured time follows a change', () => {
    expect(nextAverage(undefined, 4)).toBe(4);
    expect(nextAverage(4, 1)).toBeCloseTo(3.1, 10);
  });
});

describe('fresh dispatch', () => {
  test('no head-of-line blocking: small tasks start while a large one waits for cores', () => {
    const capacity: Capacity = { freeCores: 2, freeGpus: 0, freeWorkers: 4 };
    const tasks = [
      { id: 'large', cores: 3, gpus: 0 },
      { id: 'small1', cores: 1, gpus: 0 },
      { id: 'small2', cores: 1, gpus: 0 },
      { id: 'small3', cores: 1, gpus: 0 },
    ];
    const started: string[] = [];
    const take = takeFitting(capacity, (t: (typeof tasks)[number]) => started.push(t.id));
    const refused = tasks.filter((t) => !take(t)).map((t) => t.id);
    expect(started).toEqual(['small1', 'small2']);
    expect(refused).toEqual(['large', 'small3']);
    expect(capacity).toEqual({ freeCores: 0, freeGpus: 0, freeWorkers: 2 });
  });

  test('a task needs its GPUs free and a worker place', () => {
    expect(fits({ cores: 1, gpus: 2 }, { freeCores: 4, freeGpus: 1, freeWorkers: 1 })).toBe(false);
    expect(fits({ cores: 1, gpus: 1 }, { freeCores: 4, freeGpus: 1, freeWorkers: 0 })).toBe(false);
    expect(fits({ cores: 1, gpus: 1 }, { freeCores: 4, freeGpus: 1, freeWorkers: 1 })).toBe(true);
  });
});

describe('dependency wiring', () => {
  test('ready runs once, when the last argument future succeeds', () => {
    const a = new Future<number>('a');
    const b = new Future<number>('b');
    const dependent = new Future<number>('d');
    let ready = 0;
    waitForDependencies(dependent, 'd', [a, b], () => ready++);
    a._resolve(1);
    expect(ready).toBe(0);
    b._resolve(2);
    expect(ready).toBe(1);
  });

  test('a failed argument fails the dependent with D4_DEPENDENCY_FAILED naming both tasks and the first failure', () => {
    const a = new Future<number>('load');
    const dependent = new Future<number>('use');
    let ready = 0;
    waitForDependencies(dependent, 'use', [a], () => ready++);
    a._reject(new Error('disk full'));
    const outcome = dependent._valueIfDone();
    expect(ready).toBe(0);
    expect(outcome && !outcome.ok && (outcome.error as { code: string }).code).toBe('D4_DEPENDENCY_FAILED');
    expect(outcome && !outcome.ok && (outcome.error as Error).message).toBe(`task #${dependent.id} (use) did not run because its argument, task #${a.id} (load), failed; the first failure: disk full`);
  });

  test('a chain of 20 000 dependents fails without overflowing the stack', () => {
    const first = new Future<number>('f0');
    let previous = first;
    const all: Future<number>[] = [];
    for (let i = 1; i <= 20_000; i++) {
      const next = new Future<number>(`f${i}`);
      waitForDependencies(next, `f${i}`, [previous], () => undefined);
      all.push(next);
      previous = next;
    }
    first._cancel(new Error('stop'));
    expect(all.every((f) => f.cancelled())).toBe(true);
  });
});

describe('resources as data', () => {
  test('a call inherits the executor resources and may override them without block allocation', () => {
    const settings = resolveSettings({ maxCores: 4, coresPerWorker: 1, threadsPerCore: 2, gpus: ['0', '1'] });
    expect(resourcesFor(settings, { cores: 2, gpusPerCore: 1 }, 'calc')).toEqual({ cores: 2, gpus: 2, threadsPerCore: 2, cwd: undefined, timeout: undefined, maxRetries: 0 });
    expect(() => resourcesFor(settings, { cores: 5 }, 'calc')).toThrow('task calc asks for 5 cores, but the executor has maxCores 4; raise maxCores or ask for fewer');
  });

  test('the launch description sets the thread variables, the GPU ids and an absolute cwd', () => {
    const settings = resolveSettings({ maxCores: 2, gpus: ['7'] });
    const launch = describeLaunch(3, { cores: 2, threadsPerCore: 3, gpus: ['7'], gpuCount: 1, cwd: 'sub' }, settings, { MY_VAR: 'x' });
    expect(launch.id).toBe(3);
    expect(launch.cores).toBe(2);
    expect(launch.cwd).toBe(`${process.cwd()}/sub`);
    expect([launch.env.OMP_NUM_THREADS, launch.env.MKL_NUM_THREADS, launch.env.CUDA_VISIBLE_DEVICES, launch.env.MY_VAR]).toEqual(['6', '6', '7', 'x']);
    expect(chooseBackend('auto', { cores: 2, threadsPerCore: 3, gpus: [], gpuCount: 0, cwd: undefined }, resolveSettings({ maxCores: 2 }))).toBe(processBackend);
    expect(chooseBackend(undefined, { cores: 1, threadsPerCore: undefined, gpus: [], gpuCount: 0, cwd: undefined }, resolveSettings({ maxCores: 2 }))).toBe(threadBackend);
  });

  test('with MPI ranks the thread variables are per rank: threadsPerCore, not threadsPerCore × cores', () => {
    const launch = describeLaunch(1, { cores: 2, threadsPerCore: 3, gpus: [], gpuCount: 0, cwd: undefined }, resolveSettings({ backend: 'mpi', maxCores: 2 }), undefined);
    expect(launch.env.OMP_NUM_THREADS).toBe('3');
  });

  test('GPU ids go back to the pool when a worker gives them up', () => {
    const pool = new GpuPool(['0', '1', '2']);
    expect(pool.take(2)).toEqual(['0', '1']);
    expect(pool.free).toBe(1);
    pool.give(['1']);
    expect(pool.take(2)).toEqual(['2', '1']);
  });
});

describe('launchers', () => {
  const srunDir = '/usr/bin';
  test("'auto' means SLURM only with SLURM_JOB_ID set and srun on PATH; 'mpi' is mpiexec outside SLURM", () => {
    expect(resolveLauncher('auto', { SLURM_JOB_ID: '7', PATH: srunDir })).toBe('slurm');
    expect(resolveLauncher(undefined, { SLURM_JOB_ID: '7', PATH: '/nonexistent' })).toBe('local');
    expect(resolveLauncher('auto', { PATH: srunDir })).toBe('local');
    expect(resolveLauncher('mpi', { PATH: srunDir })).toBe('mpi');
    // pympipool's cores_per_worker: workers of several cores are MPI ranks; one core stays local.
    expect(resolveLauncher('auto', { PATH: srunDir }, 2)).toBe('mpi');
    expect(resolveLauncher(undefined, { PATH: srunDir }, 1)).toBe('local');
    expect(resolveLauncher('process', { PATH: srunDir }, 2)).toBe('local');
    expect(resolveLauncher('mpi', { SLURM_JOB_ID: '7', PATH: srunDir })).toBe('slurm');
  });

  test("backend 'flux' is refused with D4_EXECUTOR_OPTION saying why and what to use", () => {
    let error: (Error & { code?: string }) | undefined;
    try {
      new Executor({ backend: 'flux' });
    } catch (e) {
      error = e as Error;
    }
    expect(error?.code).toBe('D4_EXECUTOR_OPTION');
    expect(error?.message).toBe(
      "backend 'flux' is not supported: flux is not packaged for the systems d4 is tested on, so d4 has no flux launcher; use 'slurm' (srun), 'mpi' (mpiexec) or a WorkerBackend of your own",
    );
  });

  test('srun flags: cores are ranks (joined by pmix), threads per core are CPUs per rank, GPUs for the step, cwd, then the user flags', () => {
    const spec = { id: 4, env: {}, cores: 2, threadsPerCore: 3, gpus: [], gpuCount: 2, cwd: '/data' };
    const saved = process.env.SLURM_JOB_ID;
    delete process.env.SLURM_JOB_ID;
    try {
      expect(srunLauncher(['--constraint=fast']).command(spec, 2, ['node', 'worker.js'], 'openmpi')).toEqual({
        file: 'srun',
        args: ['--ntasks=2', '--cpus-per-task=3', '--kill-on-bad-exit=1', '--job-name=d4-worker-4', '--mpi=pmix', '--gpus=2', '--chdir=/data', '--constraint=fast', 'node', 'worker.js'],
        rankVariable: 'SLURM_PROCID',
      });
      // Ranks of an MPICH build join through Slurm's PMI-2.
      expect(srunLauncher([]).command(spec, 2, ['node', 'worker.js'], 'mpich').args).toContain('--mpi=pmi2');
    } finally {
      if (saved !== undefined) process.env.SLURM_JOB_ID = saved;
    }
    // As root, Open MPI's mpiexec needs --allow-run-as-root, which d4 adds.
    const asRoot = process.getuid?.() === 0 ? ['--allow-run-as-root'] : [];
    expect(mpiexecLauncher(true).command({ id: 1, env: {}, cores: 2 }, 2, ['node', 'w.js'], 'openmpi')).toEqual({ file: 'mpiexec', args: [...asRoot, '-n', '2', '--oversubscribe', 'node', 'w.js'], rankVariable: 'OMPI_COMM_WORLD_RANK' });
  });
});
