/**
 * d4's bench harness: runs workloads on mappings as whole runs, each repetition in a fresh
 * child process, and prints one JSON line per (workload, mapping) on stdout; a short table
 * goes to stderr unless --json-only. Repetitions take turns across the mappings (A B A B …,
 * not A A B B), so a machine whose speed drifts during the bench affects every mapping alike.
 *
 *   npx tsx bench/src/run.ts [--workload NAME|all] [--mapping NAME[,NAME…]] [--items N]
 *       [--reps R] [-n N] [--redis-url URL] [--option KEY=VALUE …] [--timeout S] [--json-only]
 */
import { cpus } from 'node:os';
import { basename, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { RepetitionSpec } from './protocol.js';
import { runRepetition, type RepetitionOutcome } from './repetition.js';
import { median } from './stats.js';
import { WORKLOADS } from './workloads.js';


const USAGE = `usage: npx tsx bench/src/run.ts [options]
  --workload NAME|all     ${Object.keys(WORKLOADS).join(', ')} or all (default: all)
  --mapping NAME[,NAME…]  mappings by name, comma-separated (default: simple)
  --items N               source items per run (default: each workload's own)
  --reps R                repetitions, each in a fresh process (default: 5)
  -n, --num N             numProcesses for the mapping
  --redis-url URL         redisUrl for the redis mappings
  --option KEY=VALUE      any other mapping option (repeatable; VALUE parsed as JSON when it can be)
  --timeout S             seconds before a repetition is killed and counted as failed (default: 600)
  --trees DIR[,DIR…]      other checkouts (built) to run the same mappings from, taking turns
                          with this one: before/after figures from one window; results say
                          mapping@folder
  --json-only             no table on stderr
  -h, --help`;

class UsageError extends Error {}

interface BenchArgs {
  workloads: string[];
  mappings: string[];
  items?: number;
  reps: number;
  n?: number;
  options: Record<string, unknown>;
  timeoutMs: number;
  jsonOnly: boolean;
  /** Checkouts to take turns with this one ('' is this one). */
  trees: string[];
}

function positiveInt(name: string, text: string | undefined, min = 1): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text.replace(/_/g, ''));
  if (!Number.isInteger(n) || n < min) throw new UsageError(`${name} takes a whole number of at least ${min}, got '${text}'`);
  return n;
}

function parseBenchArgs(argv: string[]): BenchArgs | undefined {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      workload: { type: 'string', default: 'all' },
      mapping: { type: 'string', default: 'simple' },
      items: { type: 'string' },
      reps: { type: 'string', default: '5' },
      num: { type: 'string', short: 'n' },
      'redis-url': { type: 'string' },
      option: { type: 'string', multiple: true },
      timeout: { type: 'string', default: '600' },
      'json-only': { type: 'boolean', default: false },
      trees: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return undefined;
  const workloads = values.workload === 'all' ? Object.keys(WORKLOADS) : values.workload.split(',').map((w) => w.trim());
  for (const w of workloads) {
    if (!WORKLOADS[w]) throw new UsageError(`unknown workload '${w}'; the workloads are: ${Object.keys(WORKLOADS).join(', ')}, all`);
  }
  const mappings = values.mapping.split(',').map((m) => m.trim()).filter(Boolean);
  if (mappings.length === 0) throw new UsageError('--mapping names no mapping');
  const options: Record<string, unknown> = {};
  for (const pair of values.option ?? []) {
    const eq = pair.indexOf('=');
    if (eq < 1) throw new UsageError(`--option takes KEY=VALUE, got '${pair}'`);
    const raw = pair.slice(eq + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // a plain string
    }
    options[pair.slice(0, eq)] = value;
  }
  const n = positiveInt('-n', values.num);
  if (n !== undefined) options.numProcesses = n;
  if (values['redis-url'] !== undefined) options.redisUrl = values['redis-url'];
  return {
    workloads,
    mappings,
    items: positiveInt('--items', values.items),
    reps: positiveInt('--reps', values.reps)!,
    n,
    options,
    timeoutMs: positiveInt('--timeout', values.timeout)! * 1000,
    jsonOnly: values['json-only'],
    trees: ['', ...(values.trees ? values.trees.split(',').map((t) => resolve(t.trim())).filter(Boolean) : [])],
  };
}

const round = (x: number, digits = 4): number => Number(x.toPrecision(digits));

interface BenchLine {
  workload: string;
  mapping: string;
  items: number;
  reps: number;
  n?: number;
  options?: Record<string, unknown>;
  status: 'ok' | 'skipped' | 'failed';
  seconds?: { median: number; min: number; max: number };
  itemsPerSecond?: number;
  peakRssMB?: number;
  processSeconds?: number;
  /** The mapping's own run time after start-up (stats.runMs), median, where it reports one. */
  mappingRunSeconds?: number;
  error?: { code: string; message: string };
  reason?: string;
  node?: string;
  cpus?: number;
}

/** One mapping's repetitions of one workload so far; `ended` once it failed or was skipped. */
interface MappingRun {
  spec: RepetitionSpec;
  /** The checkout it runs from ('' for this one). */
  tree: string;
  line: BenchLine;
  runMs: number[];
  /** The mapping's own run time after start-up, where it reports one. */
  mappingRunMs: number[];
  processMs: number[];
  maxRssKB: number;
  ended?: BenchLine;
}

// The machine's figures go last on every line, whatever the outcome.
const machine = () => ({ node: process.version, cpus: cpus().length });

function startMappingRun(args: BenchArgs, workload: string, mapping: string, tree: string): MappingRun {
  const items = args.items ?? WORKLOADS[workload].defaultItems;
  const extraOptions = Object.fromEntries(Object.entries(args.options).filter(([k]) => k !== 'numProcesses'));
  return {
    spec: { workload, mapping, items, options: args.options },
    tree,
    line: {
      workload,
      mapping: tree ? `${mapping}@${basename(tree)}` : mapping,
      items,
      reps: 0,
      ...(args.n !== undefined ? { n: args.n } : {}),
      ...(Object.keys(extraOptions).length ? { options: extraOptions } : {}),
      status: 'ok',
    },
    runMs: [],
    mappingRunMs: [],
    processMs: [],
    maxRssKB: 0,
  };
}

function record(run: MappingRun, outcome: RepetitionOutcome): void {
  const report = outcome.report;
  if (report.kind === 'skipped') run.ended = { ...run.line, status: 'skipped', reason: report.reason, ...machine() };
  // A wrong or failed repetition makes the whole result a failure, not a figure.
  else if (report.kind === 'failed') run.ended = { ...run.line, reps: run.runMs.length, status: 'failed', error: { code: report.code, message: report.message }, ...machine() };
  else {
    run.runMs.push(report.runMs);
    if (report.mappingRunMs !== undefined) run.mappingRunMs.push(report.mappingRunMs);
    run.processMs.push(outcome.processMs);
    run.maxRssKB = Math.max(run.maxRssKB, report.maxRssKB);
  }
}

function result(run: MappingRun): BenchLine {
  if (run.ended) return run.ended;
  const med = median(run.runMs) / 1000;
  return {
    ...run.line,
    reps: run.runMs.length,
    seconds: { median: round(med), min: round(Math.min(...run.runMs) / 1000), max: round(Math.max(...run.runMs) / 1000) },
    itemsPerSecond: Math.round(run.line.items / med),
    peakRssMB: round(run.maxRssKB / 1024, 4),
    processSeconds: round(median(run.processMs) / 1000),
    ...(run.mappingRunMs.length ? { mappingRunSeconds: round(median(run.mappingRunMs) / 1000) } : {}),
    ...machine(),
  };
}

/** Every mapping's repetitions of one workload, taking turns. */
async function benchWorkload(args: BenchArgs, workload: string): Promise<BenchLine[]> {
  const runs = args.mappings.flatMap((mapping) => args.trees.map((tree) => startMappingRun(args, workload, mapping, tree)));
  const n = args.n !== undefined ? ` -n ${args.n}` : '';
  for (let rep = 0; rep < args.reps; rep++) {
    for (const run of runs) {
      if (run.ended) continue;
      if (!args.jsonOnly) process.stderr.write(`bench: ${workload} on ${run.line.mapping}${n}, repetition ${rep + 1} of ${args.reps} …\n`);
      record(run, await runRepetition(run.spec, args.timeoutMs, run.tree || undefined));
    }
  }
  return runs.map(result);
}

function tableRow(cells: string[], widths: number[]): string {
  return cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
}

function printTable(lines: BenchLine[]): void {
  const header = ['workload', 'mapping', 'items', 'median s', 'min s', 'max s', 'items/s', 'RSS MB', 'proc s'];
  const rows = lines.map((l) =>
    l.status === 'ok'
      ? [l.workload, l.mapping + (l.n !== undefined ? ` -n ${l.n}` : ''), String(l.items), String(l.seconds!.median), String(l.seconds!.min), String(l.seconds!.max), l.itemsPerSecond!.toLocaleString('en-US'), String(l.peakRssMB), String(l.processSeconds)]
      : [l.workload, l.mapping + (l.n !== undefined ? ` -n ${l.n}` : ''), String(l.items), l.status.toUpperCase(), '', '', '', '', ''],
  );
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const out = [tableRow(header, widths), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map((r) => tableRow(r, widths))];
  for (const l of lines) {
    if (l.status === 'failed') out.push(`${l.workload} on ${l.mapping}: ${l.error!.code}: ${l.error!.message}`);
    if (l.status === 'skipped') out.push(`${l.workload} on ${l.mapping}: skipped: ${l.reason}`);
  }
  process.stderr.write(`\n${out.join('\n')}\n`);
}

async function main(): Promise<number> {
  let args: BenchArgs | undefined;
  try {
    args = parseBenchArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`bench: ${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (!args) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const lines: BenchLine[] = [];
  for (const workload of args.workloads) {
    for (const line of await benchWorkload(args, workload)) {
      process.stdout.write(`${JSON.stringify(line)}\n`);
      lines.push(line);
    }
  }
  if (!args.jsonOnly) printTable(lines);
  return lines.some((l) => l.status === 'failed') ? 1 : 0;
}

process.exitCode = await main();
