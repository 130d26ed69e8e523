// Benchmarks of @d4/executor beside Piscina 5, in one run on the same machine.
//   npx tsx bench/src/executor.ts [--tasks 200000] [--hops 2000] [--repeat 3]
// Prints one JSON line per result:
//   - trivial tasks per second with 2 workers (block allocation; Piscina: 2 threads),
//     submitting every task first and then awaiting all (the usual "pool.run in a loop");
//   - the dependency hop: a chain of N tasks, each taking the previous one's future, time per
//     hop (Piscina has no futures as arguments: its figure is one awaited run after another);
//     one untimed chain first on both sides; d4 reports how many hops were forwarded to the
//     worker of the previous task (README of @d4/executor, "Forwarded dependents");
//   - map() throughput with chunksize 1 and 64, and the process backend, for reference.
// Goals (issue 15): at least 380 000 trivial tasks/s with 2 workers; a hop at or below Piscina's in the same run.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Piscina } from 'piscina';
import { Executor, type Future } from '@d4/executor';
import { median } from './stats.js';

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
}

const TASKS = option('tasks', 200_000);
const HOPS = option('hops', 2_000);
const REPEAT = option('repeat', 3);
const WORKERS = 2;

function increment(x: number): number {
  return x + 1;
}

function emit(result: Record<string, unknown>): void {
  console.log(JSON.stringify({ bench: 'executor', ...result }));
}

async function timeIt(run: () => Promise<void>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < REPEAT; i++) {
    const start = performance.now();
    await run();
    times.push(performance.now() - start);
  }
  return times;
}

async function checkSum(values: Iterable<PromiseLike<number>> | number[], count: number): Promise<void> {
  let sum = 0;
  for (const v of values) sum += await v;
  // Σ (i + 1) for i < count: a wrong or lost result would change it.
  if (sum !== (count * (count + 1)) / 2) throw new Error(`wrong results: sum ${sum}`);
}

async function benchExecutor(): Promise<void> {
  const exe = new Executor({ maxWorkers: WORKERS, blockAllocation: true, backend: 'thread' });
  // Warm up: start the workers, ship the function, let the JIT settle.
  await checkSum(Array.from({ length: 20_000 }, (_, i) => exe.submit(increment, i)), 20_000);

  const times = await timeIt(async () => {
    const futures: Future<number>[] = new Array(TASKS);
    for (let i = 0; i < TASKS; i++) futures[i] = exe.submit(increment, i);
    await checkSum(futures, TASKS);
  });
  emit({ workload: 'trivial_tasks', impl: '@d4/executor', workers: WORKERS, tasks: TASKS, ms: round(median(times)), tasksPerSec: Math.round(TASKS / (median(times) / 1000)), runsMs: times.map(round) });

  for (const chunksize of [1, 64]) {
    const mapTimes = await timeIt(async () => {
      let sum = 0;
      for await (const v of exe.map(increment, range(TASKS), { chunksize, inFlight: chunksize === 1 ? 1024 : 32 })) sum += v;
      if (sum !== (TASKS * (TASKS + 1)) / 2) throw new Error(`wrong map results: sum ${sum}`);
    });
    emit({ workload: 'map', impl: '@d4/executor', workers: WORKERS, chunksize, tasks: TASKS, ms: round(median(mapTimes)), itemsPerSec: Math.round(TASKS / (median(mapTimes) / 1000)), runsMs: mapTimes.map(round) });
  }

  const chain = async () => {
    let last: Future<number> = exe.submit(increment, 0);
    for (let i = 1; i < HOPS; i++) last = exe.submit(increment, last);
    const value = await last;
    if (value !== HOPS) throw new Error(`wrong chain result ${value}`);
  };
  // Warm up the hop's own path (dependency wiring, forwarding) as the burst above warmed submit; Piscina's hop is its burst's path.
  await chain();
  const forwardedBefore = exe.forwarded;
  const hopTimes = await timeIt(chain);
  // forwarded: hops that went straight to the worker of the previous task (the rest started a new run of the chain from this thread).
  emit({ workload: 'dependency_hop', impl: '@d4/executor', workers: WORKERS, hops: HOPS, msPerHop: round(median(hopTimes) / HOPS, 4), runsMs: hopTimes.map(round), forwarded: exe.forwarded - forwardedBefore });
  await exe.shutdown();

  // The same with child processes (what pympipool uses), for reference.
  const processes = new Executor({ maxWorkers: WORKERS, blockAllocation: true, backend: 'process' });
  await checkSum(Array.from({ length: 20_000 }, (_, i) => processes.submit(increment, i)), 20_000);
  const processTimes = await timeIt(async () => {
    const futures: Future<number>[] = new Array(TASKS);
    for (let i = 0; i < TASKS; i++) futures[i] = processes.submit(increment, i);
    await checkSum(futures, TASKS);
  });
  emit({ workload: 'trivial_tasks', impl: '@d4/executor (process backend)', workers: WORKERS, tasks: TASKS, ms: round(median(processTimes)), tasksPerSec: Math.round(TASKS / (median(processTimes) / 1000)), runsMs: processTimes.map(round) });
  const processChain = async () => {
    let last: Future<number> = processes.submit(increment, 0);
    for (let i = 1; i < HOPS; i++) last = processes.submit(increment, last);
    if ((await last) !== HOPS) throw new Error('wrong chain result');
  };
  await processChain();
  const processHops = await timeIt(processChain);
  emit({ workload: 'dependency_hop', impl: '@d4/executor (process backend)', workers: WORKERS, hops: HOPS, msPerHop: round(median(processHops) / HOPS, 4), runsMs: processHops.map(round) });
  await processes.shutdown();
}

async function benchPiscina(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'd4-bench-piscina-'));
  const filename = join(dir, 'increment.cjs');
  writeFileSync(filename, 'module.exports = (x) => x + 1;\n');
  const pool = new Piscina({ filename, minThreads: WORKERS, maxThreads: WORKERS });
  try {
    await checkSum(Array.from({ length: 20_000 }, (_, i) => pool.run(i) as Promise<number>), 20_000);
    const times = await timeIt(async () => {
      const promises: Promise<number>[] = new Array(TASKS);
      for (let i = 0; i < TASKS; i++) promises[i] = pool.run(i);
      await checkSum(promises, TASKS);
    });
    emit({ workload: 'trivial_tasks', impl: 'piscina', workers: WORKERS, tasks: TASKS, ms: round(median(times)), tasksPerSec: Math.round(TASKS / (median(times) / 1000)), runsMs: times.map(round) });

    const awaitedRuns = async () => {
      let value = 0;
      for (let i = 0; i < HOPS; i++) value = await pool.run(value);
      if (value !== HOPS) throw new Error(`wrong chain result ${value}`);
    };
    await awaitedRuns(); // warmed up as d4's hop is
    const hopTimes = await timeIt(awaitedRuns);
    emit({ workload: 'dependency_hop', impl: 'piscina (await each run)', workers: WORKERS, hops: HOPS, msPerHop: round(median(hopTimes) / HOPS, 4), runsMs: hopTimes.map(round) });
  } finally {
    await pool.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

function* range(n: number): Generator<number> {
  for (let i = 0; i < n; i++) yield i;
}

function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

await benchPiscina();
await benchExecutor();
