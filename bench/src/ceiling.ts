/**
 * What this machine allows for CPU-bound work, with no d4 at all: fft_peaks' SpectrumPeak
 * run over the same items in one process, then split evenly over P processes that start
 * together. Each process loads and warms up first and waits for a start signal, so the
 * figure is pure compute: the ceiling any mapping's speedup over `simple` can reach here.
 *
 * A second split starts P bare worker threads cold (no d4 runtime: each imports the
 * compiled workload module, builds a SpectrumPeak and runs its slice) and is timed from
 * the first spawn to the last result. It is what Node itself costs a mapping that starts
 * fresh threads: thread boot, module load and JIT warm-up on busy cores.
 *
 * With --mappings, the same invocation also times whole runs of fft_peaks (each in a fresh
 * process, taking turns with the ceilings) on `simple`, on `dyn_multi -n P` and on `multi`
 * with P SpectrumPeak instances, and prints each parallel mapping's speed-up over simple,
 * the cold-thread ceiling and their ratio: the figure the runtime issue's goal is set in.
 *
 *   npx tsx bench/src/ceiling.ts [--items N] [--procs P] [--reps R] [--mappings]
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { prepareWorkerSource, workerExecArgv } from '@d4/runtime';
import type { RepetitionSpec } from './protocol.js';
import { runRepetition } from './repetition.js';
import { median } from './stats.js';
import { SpectrumPeak } from './workloads.js';

const SAMPLES = 1024;

interface Slice {
  from: number;
  to: number;
}

/** Part `part` of `parts` near-equal slices of the items 0 … items-1. */
function sliceOf(items: number, parts: number, part: number): Slice {
  return { from: Math.floor((items * part) / parts), to: Math.floor((items * (part + 1)) / parts) };
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
        c.send(sliceOf(items, procs, p));
      }),
  );
  await Promise.all(done);
  return performance.now() - started;
}

/** A bare worker thread: import the workload module, run the slice, post the checksum. */
const COLD_THREAD = `
const { workerData, parentPort } = require('node:worker_threads');
import(workerData.module).then((workloads) => {
  const pe = new workloads.SpectrumPeak(workerData.samples);
  let check = 0;
  const started = performance.now();
  for (let n = workerData.from; n < workerData.to; n++) check += pe._process(n)[1];
  parentPort.postMessage({ check, ms: performance.now() - started, items: workerData.to - workerData.from });
});
`;

/** The compiled workload module d4's workers import, and the flags its threads start with. */
interface ColdModule {
  url: string;
  execArgv: string[] | undefined;
}

async function coldModule(): Promise<ColdModule> {
  const source = await prepareWorkerSource({ module: fileURLToPath(new URL('./workloads.ts', import.meta.url)), exportName: 'fftPeaks' });
  return { url: pathToFileURL(source.module).href, execArgv: workerExecArgv(source) };
}

/** The PE's own time per item in the bare threads (their loops), in µs: the last cold run's. */
let coldUsPerItem = 0;

/** Wall time from spawning `threads` cold worker threads to the last one's result, in ms. */
async function coldThreadsRun(items: number, threads: number, module: ColdModule): Promise<number> {
  const started = performance.now();
  let loopMs = 0;
  const done = Array.from(
    { length: threads },
    (_, t) =>
      new Promise<void>((resolve, reject) => {
        const workerData = { module: module.url, samples: SAMPLES, ...sliceOf(items, threads, t) };
        const worker = new Worker(COLD_THREAD, { eval: true, workerData, execArgv: module.execArgv });
        worker.once('message', (m: { ms: number }) => {
          loopMs += m.ms;
          void worker.terminate().then(() => resolve());
        });
        worker.once('error', reject);
      }),
  );
  await Promise.all(done);
  coldUsPerItem = (loopMs / items) * 1000;
  return performance.now() - started;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { items: { type: 'string', default: '25000' }, procs: { type: 'string', default: '2' }, reps: { type: 'string', default: '5' }, mappings: { type: 'boolean', default: false } },
  });
  const items = Number(values.items);
  const procs = Number(values.procs);
  const reps = Number(values.reps);
  for (const [name, n] of [['items', items], ['procs', procs], ['reps', reps]] as const) {
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} takes a whole number of at least 1, got '${values[name]}'`);
  }
  const one: number[] = [];
  const many: number[] = [];
  const cold: number[] = [];
  const runs = values.mappings ? mappingRuns(items, procs) : [];
  const coldPerItem: number[] = [];
  // Compiled once, before any clock starts.
  const module = await coldModule();
  for (let r = 0; r < reps; r++) {
    one.push(await parallelRun(items, 1));
    many.push(await parallelRun(items, procs));
    cold.push(await coldThreadsRun(items, procs, module));
    coldPerItem.push(coldUsPerItem);
    for (const run of runs) run.ms.push(await wholeRun(run, run.spec));
  }
  const seconds = (ms: number[]): number => median(ms) / 1000;
  const result = {
    items,
    procs,
    reps,
    oneProcessS: seconds(one),
    splitS: seconds(many),
    ceiling: median(one) / median(many),
    coldThreadsS: seconds(cold),
    coldCeiling: median(one) / median(cold),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  const simple = runs.find((r) => r.label === 'simple');
  for (const run of runs) {
    if (run === simple) continue;
    const speedup = median(simple!.ms) / median(run.ms);
    // The PE's own time per item inside the runtime (its sampled process() time) beside the
    // bare threads' loops: what is left of the gap once start-up and scheduling are out.
    const peUsPerItem = median(run.peUsPerItem);
    const row = { mapping: run.label, items, reps, simpleS: seconds(simple!.ms), mappingS: seconds(run.ms), speedup, coldCeiling: result.coldCeiling, ratio: speedup / result.coldCeiling, peUsPerItem, bareThreadUsPerItem: median(coldPerItem), simpleUsPerItem: median(simple!.peUsPerItem) };
    process.stdout.write(`${JSON.stringify(row)}\n`);
    process.stderr.write(
      `${run.label}: ${row.mappingS.toFixed(3)} s against simple's ${row.simpleS.toFixed(3)} s: ${speedup.toFixed(2)}x, ${row.ratio.toFixed(2)} of the cold-thread ceiling (${result.coldCeiling.toFixed(2)}x); ` +
        `SpectrumPeak ${peUsPerItem.toFixed(1)} µs per item inside (simple ${row.simpleUsPerItem.toFixed(1)}), ${row.bareThreadUsPerItem.toFixed(1)} in a bare thread\n`,
    );
  }
  process.stderr.write(
    `fft_peaks compute, no d4: ${items} items in 1 process ${result.oneProcessS.toFixed(3)} s; split over ${procs} warm processes ${result.splitS.toFixed(3)} s ` +
      `(ceiling ${result.ceiling.toFixed(2)}x); over ${procs} cold threads ${result.coldThreadsS.toFixed(3)} s (${result.coldCeiling.toFixed(2)}x) (medians of ${reps})\n`,
  );
}

interface MappingRun {
  label: string;
  spec: RepetitionSpec;
  ms: number[];
  /** SpectrumPeak's own time per item (sampled process() time over calls), in µs. */
  peUsPerItem: number[];
}

/** simple, dyn_multi with P workers, and multi with P instances of the CPU-bound PE. */
function mappingRuns(items: number, procs: number): MappingRun[] {
  const spec = (mapping: string, options: Record<string, unknown>, args: Record<string, unknown> = {}): RepetitionSpec => ({ workload: 'fft_peaks', mapping, items, options, args });
  return [
    { label: 'simple', spec: spec('simple', {}), ms: [], peUsPerItem: [] },
    { label: `dyn_multi -n ${procs}`, spec: spec('dyn_multi', { numProcesses: procs }), ms: [], peUsPerItem: [] },
    // The source and the checker take one instance each; the FFT takes P.
    { label: `multi, ${procs} SpectrumPeak instances`, spec: spec('multi', { numProcesses: procs + 2 }, { analysers: procs }), ms: [], peUsPerItem: [] },
  ];
}

/** The time of mapping.run() of one whole run in a fresh process (bench/src/child.ts). */
async function wholeRun(run: MappingRun, spec: RepetitionSpec): Promise<number> {
  const { report } = await runRepetition(spec, 600_000);
  if (report.kind !== 'ok') throw new Error(`fft_peaks on ${spec.mapping} did not run: ${report.kind === 'failed' ? `${report.code}: ${report.message}` : report.reason}`);
  const pe = report.pes?.SpectrumPeak1;
  if (pe && pe.calls > 0) run.peUsPerItem.push((pe.processMs / pe.calls) * 1000);
  return report.runMs;
}

if (process.argv.includes('--child')) child();
else await main();
