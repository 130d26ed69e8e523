import type { RunOutputCounts, RunOutputs, RunResult, RunStats } from '@d4/core';

/** How many values of one port the pretty listing shows before it points to --results json. */
export const PRETTY_VALUE_LIMIT = 1000;
const ONE_LINE_WIDTH = 100;

/** JSON that survives what PEs commonly write: bigint, Map, Set, typed arrays. */
export function toJSONText(value: unknown, indent?: number): string {
  return JSON.stringify(value, jsonReplacer, indent) ?? 'undefined';
}

function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Map) return Object.fromEntries(value);
  if (value instanceof Set) return [...value];
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return Array.from(value as unknown as ArrayLike<number>);
  return value;
}

/** One value as the pretty listing shows it: JSON, so strings stay distinguishable from numbers. */
function formatValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  try {
    return toJSONText(value);
  } catch {
    return String(value);
  }
}

/** `--results json`: the whole result as one JSON document. */
export function formatJSON(result: RunResult): string {
  return `${toJSONText({ outputs: result.outputs, counts: result.counts, stats: result.stats })}\n`;
}

/**
 * `--results pretty`: dispel4py's "Outputs:" block made readable, one port per line
 * (`PE.port: [values]`); a long list goes one value per line, capped at PRETTY_VALUE_LIMIT.
 */
export function formatPrettyOutputs(outputs: RunOutputs): string {
  const lines: string[] = [];
  for (const [peId, ports] of Object.entries(outputs)) {
    for (const [port, values] of Object.entries(ports)) {
      const shown = values.slice(0, PRETTY_VALUE_LIMIT).map(formatValue);
      const oneLine = `  ${peId}.${port}: [${shown.join(', ')}]`;
      if (values.length <= PRETTY_VALUE_LIMIT && oneLine.length <= ONE_LINE_WIDTH) {
        lines.push(oneLine);
        continue;
      }
      lines.push(`  ${peId}.${port}: ${values.length} value${values.length === 1 ? '' : 's'}`);
      for (const text of shown) lines.push(`    ${text}`);
      if (values.length > PRETTY_VALUE_LIMIT) lines.push(`    … and ${values.length - PRETTY_VALUE_LIMIT} more (--results json prints them all)`);
    }
  }
  if (lines.length === 0) return 'Outputs: none (no PE wrote to an unconnected output port)\n';
  return `Outputs:\n${lines.join('\n')}\n`;
}

/** `--count` with pretty results: how many values each unconnected port received. */
export function formatPrettyCounts(counts: RunOutputCounts): string {
  const lines: string[] = [];
  for (const [peId, ports] of Object.entries(counts)) {
    for (const [port, n] of Object.entries(ports)) lines.push(`  ${peId}.${port}: ${n}`);
  }
  if (lines.length === 0) return 'Counts: none (no PE wrote to an unconnected output port)\n';
  return `Counts:\n${lines.join('\n')}\n`;
}

/** `--verbose`: the run's figures, per PE, for stderr. */
export function formatStats(stats: RunStats): string {
  const lines = [`ran on ${stats.mapping} in ${formatMs(stats.elapsedMs)}`];
  for (const [peId, s] of Object.entries(stats.pes)) {
    lines.push(
      `  ${peId}: ${s.instances} instance${s.instances === 1 ? '' : 's'}, ${s.calls} call${s.calls === 1 ? '' : 's'}, ${s.writes} write${s.writes === 1 ? '' : 's'}, ${formatMs(s.processMs)} in process()`,
    );
  }
  return `${lines.join('\n')}\n`;
}

export function formatMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`;
}
