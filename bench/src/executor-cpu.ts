// Where the CPU of a burst of trivial executor tasks goes, per thread, for one or more built
// checkouts in turns (in one process each turn, so that every tree sees the same minutes):
//   npx tsx bench/src/executor-cpu.ts [--trees DIR,DIR] [--tasks 200000] [--repeat 5]
// For each timed run (submit every task, then await all, as bench/src/executor.ts does) it
// reads each thread's /proc/self/task/<tid>/schedstat (ns on the CPU, ns runnable but waiting
// for a CPU, times scheduled in) and /proc/self/task/<tid>/status (voluntary switches: how
// often the thread slept and was woken). Prints one JSON line per tree with medians:
//   mainUsPerTask, workersUsPerTask (the two busiest other threads; V8's helpers are the
//   rest, `otherUsPerTask`), runqueue waits, wake-ups per 1 000 tasks, tasks/s.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { median } from './stats.js';

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : fallback;
}

const TASKS = Number(option('tasks', '200000'));
const REPEAT = Number(option('repeat', '5'));
const TREES = option('trees', resolve(import.meta.dirname, '../..')).split(',');

function increment(x: number): number {
  return x + 1;
}

interface ThreadSample {
  runNs: number;
  waitNs: number;
  voluntary: number;
}

function sampleThreads(): Map<string, ThreadSample> {
  const out = new Map<string, ThreadSample>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const [run, wait] = readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ').map(Number);
      const status = readFileSync(`/proc/self/task/${tid}/status`, 'utf8');
      const voluntary = Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(status)?.[1] ?? 0);
      out.set(tid, { runNs: run, waitNs: wait, voluntary });
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return out;
}

function delta(before: Map<string, ThreadSample>, after: Map<string, ThreadSample>): { tid: string; runNs: number; waitNs: number; voluntary: number }[] {
  const rows = [];
  for (const [tid, a] of after) {
    const b = before.get(tid) ?? { runNs: 0, waitNs: 0, voluntary: 0 };
    rows.push({ tid, runNs: a.runNs - b.runNs, waitNs: a.waitNs - b.waitNs, voluntary: a.voluntary - b.voluntary });
  }
  return rows;
}

type ExecutorModule = typeof import('@d4/executor');

async function measure(tree: string): Promise<Record<string, unknown>> {
  const { Executor } = (await import(join(tree, 'packages/executor/dist/index.js'))) as ExecutorModule;
  const exe = new Executor({ maxWorkers: 2, blockAllocation: true, backend: 'thread' });
  const burst = async () => {
    const futures = new Array(TASKS);
    for (let i = 0; i < TASKS; i++) futures[i] = exe.submit(increment, i);
    let sum = 0;
    for (const f of futures) sum += await f;
    if (sum !== (TASKS * (TASKS + 1)) / 2) throw new Error(`wrong results: sum ${sum}`);
  };
  await burst(); // warm up: workers started, function shipped, JIT settled
  const pid = String(process.pid);
  const rows: Record<string, number>[] = [];
  for (let r = 0; r < REPEAT; r++) {
    const before = sampleThreads();
    const start = performance.now();
    await burst();
    const ms = performance.now() - start;
    const threads = delta(before, sampleThreads());
    const main = threads.find((t) => t.tid === pid)!;
    const others = threads.filter((t) => t.tid !== pid).sort((a, b) => b.runNs - a.runNs);
    const workers = others.slice(0, 2);
    const rest = others.slice(2).reduce((s, t) => s + t.runNs, 0);
    const perTask = (ns: number) => ns / 1000 / TASKS;
    rows.push({
      ms,
      tasksPerSec: TASKS / (ms / 1000),
      mainUsPerTask: perTask(main.runNs),
      mainIdleMs: ms - (main.runNs + main.waitNs) / 1e6,
      mainRunqueueMs: main.waitNs / 1e6,
      workersUsPerTask: perTask(workers[0].runNs + workers[1].runNs),
      workersIdleMs: 2 * ms - (workers[0].runNs + workers[0].waitNs + workers[1].runNs + workers[1].waitNs) / 1e6,
      workersRunqueueMs: (workers[0].waitNs + workers[1].waitNs) / 1e6,
      otherUsPerTask: perTask(rest),
      mainWakeupsPer1000: (main.voluntary / TASKS) * 1000,
      workerWakeupsPer1000: ((workers[0].voluntary + workers[1].voluntary) / TASKS) * 1000,
    });
  }
  await exe.shutdown();
  const result: Record<string, unknown> = { tree, tasks: TASKS };
  for (const key of Object.keys(rows[0])) result[key] = Math.round(median(rows.map((row) => row[key])) * 1000) / 1000;
  result.runsMs = rows.map((row) => Math.round(row.ms));
  return result;
}

for (const tree of TREES) console.log(JSON.stringify({ bench: 'executor-cpu', ...(await measure(tree)) }));
