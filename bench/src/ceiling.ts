/**
 * What this machine allows for CPU-bound work, with no d4 at all: fft_peaks' SpectrumPeak
 * run over the same items in one process, then split evenly over P processes that start
 * together. Each process loads and warms up first and waits for a start signal, so the
 * figure is pure compute: the ceiling any mapping's speedup over `simple` can reach here.
 *
 *   npx tsx bench/src/ceiling.ts [--items N] [--procs P] [--reps R]
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { median } from './stats.js';
import { SpectrumPeak } from './workloads.js';

const SAMPLES = 1024;

interface Slice {
  from: number;
  to: number;
}

/** Child: warm up, say ready, compute the slice on 'go', report its compute time. */
function child(): void {
  const pe = new SpectrumPeak(SAMPLES);
  for (let n = 0; n < 200; n++) pe._process(n);
  process.on('message', (slice: Slice) => {
    const started = performance.now();
    let check = 0;
    for (let n = slice.from; n < slice.to; n++) check += (pe._process(n) as [number, number])[1];
    process.send!({ ms: performance.now() - started, check }, () => process.exit(0));
  });
  process.send!('ready');
}

/** Wall time from the start signal to the last process's result, in ms. */
async function parallelRun(items: number, procs: number): Promise<number> {
  const here = fileURLToPath(import.meta.url);
  const children: ChildProcess[] = [];
  const ready: Array<Promise<void>> = [];
  for (let p = 0; p < procs; p++) {
    const c = fork(here, ['--child'], { execArgv: process.execArgv, stdio: 'inherit' });
    children.push(c);
    ready.push(new Promise((resolve, reject) => {
      c.once('message', () => resolve());
      c.once('exit', (code) => reject(new Error(`ceiling child ${p} exited with ${code} before it was ready`)));
    }));
  }
  await Promise.all(ready);
  const started = performance.now();
  const done = children.map(
    (c, p) =>
      new Promise<void>((resolve) => {
        c.once('message', () => resolve());
        c.send({ from: Math.floor((items * p) / procs), to: Math.floor((items * (p + 1)) / procs) } satisfies Slice);
      }),
  );
  await Promise.all(done);
  return performance.now() - started;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { items: { type: 'string', default: '25000' }, procs: { type: 'string', default: '2' }, reps: { type: 'string', default: '5' } },
  });
  const items = Number(values.items);
  const procs = Number(values.procs);
  const reps = Number(values.reps);
  for (const [name, n] of [['items', items], ['procs', procs], ['reps', reps]] as const) {
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} takes a whole number of at least 1, got '${values[name]}'`);
  }
  const one: number[] = [];
  const many: number[] = [];
  for (let r = 0; r < reps; r++) {
    one.push(await parallelRun(items, 1));
    many.push(await parallelRun(items, procs));
  }
  const result = { items, procs, reps, oneProcessS: median(one) / 1000, splitS: median(many) / 1000, ceiling: median(one) / median(many) };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.stderr.write(
    `fft_peaks compute, no d4: ${items} items in 1 process ${result.oneProcessS.toFixed(3)} s; split over ${procs} processes ${result.splitS.toFixed(3)} s; ceiling ${result.ceiling.toFixed(2)}x (medians of ${reps})\n`,
  );
}

if (process.argv.includes('--child')) child();
else await main();
