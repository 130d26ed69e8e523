/**
 * The conformance kit: every mapping package runs the same graphs and must produce the
 * same multiset of outputs as `simple`, and keep the runtime's contract: the lifecycle of
 * every instance, the shape of a PE's error, and an abort that ends the run.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { PEError, loadWorkflow, simpleMapping, type InputSpec, type Mapping, type RunOptions, type RunOutputs, type RunProgress, type RunResult } from '@d4/core';

export interface ConformanceCase {
  /** Export of the graphs module that builds the graph. */
  name: string;
  inputs: InputSpec;
  /** Has stateful PEs: dyn_* mappings must refuse it. */
  stateful: boolean;
  /** 'multiset' (default) compares values with multiplicity; 'set' ignores how many
   * instances reported the same value (for 'all', where each instance reports). */
  compare?: 'multiset' | 'set';
  /** Smallest fixed process count that runs it. */
  minProcesses: number;
}

export const conformanceCases: readonly ConformanceCase[] = [
  { name: 'pipeline', inputs: { '*': 200 }, stateful: false, minProcesses: 6 },
  { name: 'splitMerge', inputs: { '*': 100 }, stateful: false, minProcesses: 4 },
  { name: 'teeCopy', inputs: { '*': 100 }, stateful: false, minProcesses: 3 },
  { name: 'doubleEdge', inputs: { '*': 50 }, stateful: false, minProcesses: 2 },
  { name: 'chainComposite', inputs: { '*': 100 }, stateful: false, minProcesses: 4 },
  { name: 'unconnectedPort', inputs: { '*': 100 }, stateful: false, minProcesses: 3 },
  { name: 'asyncPipeline', inputs: { '*': 50 }, stateful: false, minProcesses: 3 },
  { name: 'burstRoot', inputs: {}, stateful: false, minProcesses: 3 },
  { name: 'listInputs', inputs: { read: [{ input: 'a' }, { input: 'b' }, 'c'] }, stateful: false, minProcesses: 2 },
  { name: 'wordCount', inputs: { '*': 300 }, stateful: true, minProcesses: 3 },
  { name: 'globalSum', inputs: { '*': 100 }, stateful: true, minProcesses: 3 },
  { name: 'broadcast', inputs: { '*': 40 }, stateful: true, compare: 'set', minProcesses: 5 },
];

/**
 * Absolute path of the graphs module, for workers that rebuild a case's graph. The graphs
 * are core's (`@d4/core/conformance/graphs`: core's own tests use them too); the kit that
 * runs and checks them is here.
 */
export const conformanceGraphsModule = createRequire(import.meta.url).resolve('@d4/core/conformance/graphs');

export interface ConformanceOutcome {
  case: ConformanceCase;
  expected: RunResult;
  actual: RunResult;
  /** Empty when the outputs agree. */
  differences: string[];
}

/** Runs one case on `simple` and on `mapping`, and compares their outputs. */
export async function runConformanceCase(mapping: Mapping, testCase: ConformanceCase, options: RunOptions = {}): Promise<ConformanceOutcome> {
  const expected = await simpleMapping.run(await loadWorkflow(conformanceGraphsModule, { exportName: testCase.name }), testCase.inputs);
  const actual = await mapping.run(await loadWorkflow(conformanceGraphsModule, { exportName: testCase.name }), testCase.inputs, options);
  return { case: testCase, expected, actual, differences: compareOutputs(expected.outputs, actual.outputs, testCase.compare ?? 'multiset') };
}

/** Differences between two runs' outputs, as readable lines (values compared as JSON). */
export function compareOutputs(expected: RunOutputs, actual: RunOutputs, mode: 'multiset' | 'set' = 'multiset'): string[] {
  const out: string[] = [];
  const keys = new Set<string>();
  for (const [pe, ports] of Object.entries(expected)) for (const port of Object.keys(ports)) keys.add(`${pe}.${port}`);
  for (const [pe, ports] of Object.entries(actual)) for (const port of Object.keys(ports)) keys.add(`${pe}.${port}`);
  for (const key of [...keys].sort()) {
    const [pe, port] = key.split('.');
    const want = tally(expected[pe]?.[port] ?? [], mode);
    const got = tally(actual[pe]?.[port] ?? [], mode);
    const missing: string[] = [];
    const extra: string[] = [];
    for (const [v, n] of want) {
      const m = got.get(v) ?? 0;
      if (m < n) missing.push(`${v}${n - m > 1 ? ` ×${n - m}` : ''}`);
    }
    for (const [v, n] of got) {
      const m = want.get(v) ?? 0;
      if (n > m) extra.push(`${v}${n - m > 1 ? ` ×${n - m}` : ''}`);
    }
    if (missing.length) out.push(`${key}: missing ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ` and ${missing.length - 10} more` : ''}`);
    if (extra.length) out.push(`${key}: unexpected ${extra.slice(0, 10).join(', ')}${extra.length > 10 ? ` and ${extra.length - 10} more` : ''}`);
  }
  return out;
}

function tally(values: unknown[], mode: 'multiset' | 'set'): Map<string, number> {
  const counts = new Map<string, number>();
  for (const v of values) {
    const key = JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}n` : x)) ?? 'undefined';
    counts.set(key, mode === 'set' ? 1 : (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/** Runs every case a mapping should run and throws with the differences if any disagree. */
export async function checkConformance(mapping: Mapping, options: RunOptions = {}, cases: readonly ConformanceCase[] = conformanceCases.filter((c) => mapping.stateful || !c.stateful)): Promise<ConformanceOutcome[]> {
  const outcomes: ConformanceOutcome[] = [];
  const failures: string[] = [];
  for (const testCase of cases) {
    const outcome = await runConformanceCase(mapping, testCase, options);
    outcomes.push(outcome);
    if (outcome.differences.length) failures.push(`${testCase.name} on ${mapping.name}:\n  ${outcome.differences.join('\n  ')}`);
  }
  if (failures.length) throw new Error(`conformance failed:\n${failures.join('\n')}`);
  return outcomes;
}

/** One broken promise of the runtime's contract, as a readable line. */
export type ContractViolation = string;

/**
 * preprocess() once and postprocess() once per instance that ran, and every item seen once
 * over all instances: the lifecycle graph's counter reports `{instance, preprocessed, calls}`
 * from each postprocess(). Returns what is wrong (empty when nothing is).
 */
export async function checkLifecycle(mapping: Mapping, options: RunOptions = {}, items = 200): Promise<ContractViolation[]> {
  const result = await mapping.run(await loadWorkflow(conformanceGraphsModule, { exportName: 'lifecycle' }), { '*': items }, options);
  const reports = (result.outputs.LifecycleCounter1?.lifecycle ?? []) as Array<{ instance: number; preprocessed: number; calls: number }>;
  const out: ContractViolation[] = [];
  const instances = result.stats.pes.LifecycleCounter1?.instances ?? 0;
  if (reports.length !== instances) out.push(`${instances} instances of LifecycleCounter1 ran, but ${reports.length} postprocess() reports came back`);
  const seen = new Set<number>();
  for (const r of reports) {
    if (r.preprocessed !== 1) out.push(`instance ${r.instance} was preprocessed ${r.preprocessed} times before its postprocess()`);
    if (seen.has(r.instance)) out.push(`instance ${r.instance} was postprocessed more than once`);
    seen.add(r.instance);
  }
  const calls = reports.reduce((n, r) => n + r.calls, 0);
  if (calls !== items) out.push(`the instances processed ${calls} items, not ${items}`);
  const passed = result.outputs.Identity2?.output?.length ?? 0;
  if (passed !== items) out.push(`${passed} items came out of the pipeline, not ${items}`);
  return out;
}

/** A PE that throws fails the run with D4_PE_FAILED, the PE id, the item and the cause. */
export async function checkFailure(mapping: Mapping, options: RunOptions = {}): Promise<ContractViolation[]> {
  const error = await mapping.run(await loadWorkflow(conformanceGraphsModule, { exportName: 'failing' }), { '*': 20 }, options).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (error === undefined) return ['the run succeeded although PE FailsOn2 throws on item 7'];
  const out: ContractViolation[] = [];
  const e = error as Partial<PEError> & Error;
  if (!(error instanceof PEError)) out.push(`the error is a ${e?.name ?? typeof error}, not a PEError`);
  if (e.code !== 'D4_PE_FAILED') out.push(`the error's code is ${String(e.code)}, not D4_PE_FAILED`);
  if (e.peId !== 'FailsOn2') out.push(`the error names PE ${String(e.peId)}, not FailsOn2`);
  if (JSON.stringify(e.item) !== JSON.stringify({ input: 7 })) out.push(`the error's item is ${JSON.stringify(e.item)}, not {"input":7}`);
  if (e.phase !== 'process') out.push(`the error's phase is ${String(e.phase)}, not process`);
  if (!String(e.message).includes('7 is not allowed here')) out.push(`the message does not carry the PE's own: ${e.message}`);
  return out;
}

/**
 * An abort signal ends a run midway with D4_ABORTED (the run would take minutes otherwise).
 * The signal fires at the first output, or after a second where outputs come late (a
 * shared FIFO queue runs every source item before the first downstream one).
 */
export async function checkAbort(mapping: Mapping, options: RunOptions = {}): Promise<ContractViolation[]> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort('enough'), 1000);
  const run = mapping.run(await loadWorkflow(conformanceGraphsModule, { exportName: 'slow' }), { '*': 100_000 }, {
    ...options,
    signal: controller.signal,
    onOutput: () => controller.abort('enough'),
  });
  const error = await run.then(
    () => undefined,
    (e: unknown) => e,
  );
  clearTimeout(timer);
  if (error === undefined) return ['the run ended normally although it was aborted'];
  const code = (error as { code?: string }).code;
  return code === 'D4_ABORTED' ? [] : [`the aborted run failed with ${String(code)} (${(error as Error).message}), not D4_ABORTED`];
}

/**
 * The caller's `progress` moves while the run goes, not only at its end, and is exact at the
 * end: Gate2 holds item 41 until the check has seen 41 of its calls (a call is counted when
 * it starts), then the gate opens. `options` should give Gate2 a worker of its own (e.g.
 * `numProcesses: 3` on a fixed mapping), so its counts cross to the driver.
 *
 * `copies`: 'one' where Gate2 is one instance (fixed mappings): while it holds item 41 it
 * starts no other call, so progress shows exactly 41. 'several' where copies of it share the
 * work (dyn_*): the other copies go on with items 42 to 100 meanwhile, so progress shows at
 * least 41, and any count seen then is live, since the run cannot end before the gate opens.
 */
export async function checkLiveProgress(mapping: Mapping, options: RunOptions = {}, copies: 'one' | 'several' = 'one', waitMs = 30_000): Promise<ContractViolation[]> {
  const dir = mkdtempSync(join(tmpdir(), 'd4-progress-'));
  const gate = join(dir, 'open');
  try {
    const progress: RunProgress = { calls: {} };
    const run = mapping.run(await loadWorkflow(conformanceGraphsModule, { exportName: 'gated', args: { at: 41, gate } }), { '*': 100 }, { ...options, progress });
    let ended = false;
    const end = () => (ended = true);
    run.then(end, end);
    const until = Date.now() + waitMs;
    while ((progress.calls.Gate2 ?? 0) < 41 && !ended && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 20));
    const seen = { ...progress.calls };
    writeFileSync(gate, '');
    const result = await run;
    const out: ContractViolation[] = [];
    const held = seen.Gate2 ?? 0;
    if (copies === 'one' ? held !== 41 : held < 41 || held > 100) out.push(`while Gate2 held item 41, progress showed ${String(held)} of its calls, not ${copies === 'one' ? '41' : '41 to 100'} (${JSON.stringify(seen)})`);
    if (!((seen.Identity1 ?? 0) >= 41)) out.push(`while Gate2 held item 41, progress showed ${String(seen.Identity1 ?? 0)} calls of Identity1, not at least 41`);
    const exact = { CountingProducer0: 100, Identity1: 100, Gate2: 100 };
    // The counts, not the order in which PEs first reported (reports from several workers race).
    if (!isDeepStrictEqual({ ...progress.calls }, exact)) out.push(`at the end progress was ${JSON.stringify(progress.calls)}, not ${JSON.stringify(exact)}`);
    if (result.stats.pes.Gate2?.calls !== 100) out.push(`the stats count ${String(result.stats.pes.Gate2?.calls)} calls of Gate2, not 100`);
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs the three contract checks and throws with every violation. */
export async function checkContract(mapping: Mapping, options: RunOptions = {}): Promise<void> {
  const violations = [
    ...(await checkLifecycle(mapping, options)).map((v) => `lifecycle: ${v}`),
    ...(await checkFailure(mapping, options)).map((v) => `failure: ${v}`),
    ...(await checkAbort(mapping, options)).map((v) => `abort: ${v}`),
  ];
  if (violations.length) throw new Error(`${mapping.name} breaks the runtime's contract:\n  ${violations.join('\n  ')}`);
}

// dispel4py's graph_testing workflows as checks (after the definitions above, which they use).
export { checkExceptions, checkOneToAll, checkSameAsSimple, checkWordCountFilter, graphTestingSameAsSimple } from './graph-testing.js';
