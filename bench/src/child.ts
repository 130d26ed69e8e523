/**
 * One repetition of one workload on one mapping, in a fresh process (so JIT and heap start
 * clean): loads the graph and the mapping, runs it with collect: 'count', checks the number
 * of results and reports the run time and peak RSS to the harness over IPC.
 * Run by run.ts as `node --import tsx bench/src/child.ts '<RepetitionSpec JSON>'`.
 */
import { existsSync, realpathSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadMapping, loadWorkflow } from '@d4/core';
import type { RepetitionReport, RepetitionSpec } from './protocol.js';
import { WORKLOADS } from './workloads.js';

const here = dirname(fileURLToPath(import.meta.url));
/** The repo root depends on every workspace package, so every mapping resolves from it. */
const REPO_ROOT = resolve(here, '../..');
const WORKLOADS_MODULE = resolve(here, 'workloads.ts');

async function repetition(spec: RepetitionSpec): Promise<RepetitionReport> {
  const workload = WORKLOADS[spec.workload];
  if (!workload) return { kind: 'failed', code: 'BENCH_UNKNOWN_WORKLOAD', message: `unknown workload '${spec.workload}'` };
  const mapping = await loadMapping(spec.mapping, { cwd: REPO_ROOT });
  if (workload.stateful && !mapping.stateful) {
    return { kind: 'skipped', reason: `${spec.mapping} runs stateless graphs only and ${workload.name} groups by word` };
  }
  const workflow = await loadWorkflow(WORKLOADS_MODULE, { exportName: workload.factory, args: spec.args ?? {} });
  const started = performance.now();
  const result = await mapping.run(workflow, workload.inputs(spec.items), { ...spec.options, collect: 'count' });
  const runMs = performance.now() - started;
  let outputs = 0;
  for (const ports of Object.values(result.counts)) for (const n of Object.values(ports)) outputs += n;
  const expected = workload.expectedOutputs(spec.items);
  if (outputs !== expected) {
    return {
      kind: 'failed',
      code: 'BENCH_WRONG_RESULT',
      message: `${spec.mapping} gave ${outputs} results for ${workload.name} with ${spec.items} items, expected ${expected} (counts: ${JSON.stringify(result.counts)})`,
    };
  }
  const mappingRunMs = typeof result.stats.runMs === 'number' ? result.stats.runMs : undefined;
  return { kind: 'ok', runMs, ...(mappingRunMs !== undefined ? { mappingRunMs } : {}), maxRssKB: process.resourceUsage().maxRSS, outputs, pes: result.stats.pes };
}

function describeFailure(error: unknown): RepetitionReport {
  const e = error as { code?: unknown; message?: unknown; packageName?: unknown };
  const code = typeof e?.code === 'string' ? e.code : 'BENCH_RUN_FAILED';
  let message = typeof e?.message === 'string' ? e.message : String(error);
  if (code === 'D4_MAPPING_NOT_INSTALLED' && typeof e.packageName === 'string') message += notBuiltHint(e.packageName);
  return { kind: 'failed', code, message };
}

/** In this monorepo a backend is always linked; "not installed" then means "not built yet". */
function notBuiltHint(packageName: string): string {
  const linked = resolve(REPO_ROOT, 'node_modules', packageName);
  if (!existsSync(resolve(linked, 'package.json'))) return '';
  const dir = relative(REPO_ROOT, realpathSync(linked));
  return ` (in this repository ${packageName} is linked from ${dir} but its entry point is missing: build it with \`cd ${dir} && npx tsc -p tsconfig.build.json\`)`;
}

const send = (report: RepetitionReport): Promise<void> =>
  new Promise((done) => {
    if (!process.send) {
      process.stdout.write(`${JSON.stringify(report)}\n`);
      done();
    } else process.send(report, undefined, {}, () => done());
  });

let report: RepetitionReport;
try {
  report = await repetition(JSON.parse(process.argv[2] ?? '') as RepetitionSpec);
} catch (error) {
  report = describeFailure(error);
}
await send(report);
// A mapping may leave a connection or a timer behind; the repetition is over either way.
process.exit(report.kind === 'failed' ? 1 : 0);
