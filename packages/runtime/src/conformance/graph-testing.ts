/**
 * dispel4py's graph_testing workflows (examples/graph_testing in this repository) as checks
 * every fixed mapping runs: the same outputs as `simple`, plain and partitioned, and the
 * workflows whose outputs are checked by shape (one-to-all copies, per-word counts, errors).
 * Each check returns its violations, as the contract checks do; `dir` is the folder of the
 * workflows (a mapping package's tests find it relative to themselves).
 */
import { PEError, loadWorkflow, simpleMapping, type Mapping, type RunOptions } from '@d4/core';
import { compareOutputs } from './index.js';

type Violation = string;

/** The workflows that give simple's outputs, as a multiset, on every mapping. */
export const graphTestingSameAsSimple: readonly string[] = [
  'pipeline_test',
  'split_merge',
  'teecopy',
  'producer_tee',
  'parallel_pipeline',
  'partition_parallel_pipeline',
  'pipeline_composite',
  'grouping_alltoone',
  'grouping_alltoone_stateful',
  'group_by',
  'group_by_stateful',
  'grouping_split_merge',
  'word_count',
  'large_teecopy',
  'aggregates',
  'multi_producer',
  'loopcopy',
  'sieveoferatosthenes',
];

/** `name` under `mapping` once per option set (e.g. `{}` and `{ partitioned: true }`) gives simple's outputs. */
export async function checkSameAsSimple(mapping: Mapping, dir: string, name: string, optionSets: readonly RunOptions[] = [{}]): Promise<Violation[]> {
  const load = () => loadWorkflow(`${dir}${name}.ts`);
  const expected = await simpleMapping.run(await load(), { '*': 5 });
  const out: Violation[] = [];
  for (const options of optionSets) {
    const actual = await mapping.run(await load(), { '*': 5 }, options);
    for (const difference of compareOutputs(expected.outputs, actual.outputs)) out.push(`${name} with ${JSON.stringify(options)}: ${difference}`);
  }
  return out;
}

/** grouping_onetoall: each of the 2 instances gets its own copy of every item. */
export async function checkOneToAll(mapping: Mapping, dir: string): Promise<Violation[]> {
  const result = await mapping.run(await loadWorkflow(`${dir}grouping_onetoall.ts`), { '*': 5 });
  const out: Violation[] = [];
  if (result.stats.pes.TestOneInOneOut1?.instances !== 2) out.push(`TestOneInOneOut1 ran ${String(result.stats.pes.TestOneInOneOut1?.instances)} instances, not 2`);
  const got = [...((result.outputs.TestOneInOneOut1?.output as number[] | undefined) ?? [])].sort();
  if (JSON.stringify(got) !== JSON.stringify([1, 1, 2, 2, 3, 3, 4, 4, 5, 5])) out.push(`TestOneInOneOut1.output is ${JSON.stringify(got)}, not every item twice`);
  return out;
}

/** word_count_filter: every word is counted at one counter instance, with no count skipped. */
export async function checkWordCountFilter(mapping: Mapping, dir: string): Promise<Violation[]> {
  const result = await mapping.run(await loadWorkflow(`${dir}word_count_filter.ts`), { '*': 40 });
  const counts = new Map<string, number[]>();
  for (const [word, n] of (result.outputs.WordCounter2?.output as Array<[string, number]> | undefined) ?? []) (counts.get(word) ?? counts.set(word, []).get(word)!).push(n);
  if (counts.size === 0) return ['WordCounter2 counted no word'];
  const out: Violation[] = [];
  for (const [word, seen] of counts) {
    const sorted = [...seen].sort((a, b) => a - b);
    if (sorted.some((n, i) => n !== i + 1)) out.push(`the counts of "${word}" are ${JSON.stringify(sorted)}, not 1, 2, … with none skipped or repeated`);
  }
  return out;
}

/** test_exceptions and uncaught_exception_test fail the run with the PE and the phase. */
export async function checkExceptions(mapping: Mapping, dir: string): Promise<Violation[]> {
  const out: Violation[] = [];
  for (const [name, items, phase] of [
    ['test_exceptions', 2, 'process'],
    ['uncaught_exception_test', 3, 'postprocess'],
  ] as const) {
    const error = await mapping.run(await loadWorkflow(`${dir}${name}.ts`), { '*': items }).then(
      () => undefined,
      (e: unknown) => e,
    );
    const e = error as Partial<PEError> | undefined;
    if (e === undefined) out.push(`${name}: the run succeeded`);
    else if (e.code !== 'D4_PE_FAILED' || e.peId !== 'ExceptionRaiser1' || e.phase !== phase) out.push(`${name}: failed with ${String(e.code)} at ${String(e.peId)} in ${String(e.phase)}, not D4_PE_FAILED at ExceptionRaiser1 in ${phase}`);
  }
  return out;
}
