import { relative, isAbsolute } from 'node:path';
import { Command, Option } from 'commander';
import { loadWorkflow, type GraphJSON, type LoadedWorkflow } from '@d4/core';
import type { CliContext } from '../io.js';
import { toJSONText } from '../output.js';
import { compiledWorkflow, parseArgsJSON, workflowOptions } from './workflow-options.js';

function groupingLabel(grouping: unknown): string {
  if (Array.isArray(grouping)) return `group-by ${JSON.stringify(grouping)}`;
  return String(grouping);
}

/** The readable listing of `d4 graph`: PEs with their ports and groupings, then the connections. */
export function formatGraphText(json: GraphJSON, origin?: string): string {
  const roots = new Set(json.roots);
  const sinks = new Set(json.sinks);
  const lines = [`${json.pes.length} PE${json.pes.length === 1 ? '' : 's'}, ${json.edges.length} connection${json.edges.length === 1 ? '' : 's'}${origin ? ` (${origin})` : ''}`, 'PEs:'];
  for (const pe of json.pes) {
    const tags = [
      ...(roots.has(pe.id) ? ['root'] : []),
      ...(sinks.has(pe.id) ? ['sink'] : []),
      ...(pe.stateful ? ['stateful'] : []),
      ...(pe.numprocesses > 1 ? [`numprocesses ${pe.numprocesses}`] : []),
      ...(pe.composite ? [`in composite ${pe.composite.join(' > ')}`] : []),
    ];
    lines.push(`  ${pe.id}${tags.length ? `  [${tags.join(', ')}]` : ''}`);
    if (pe.inputs.length) lines.push(`    in:  ${pe.inputs.map((p) => `${p.name} (${groupingLabel(p.grouping)})`).join(', ')}`);
    if (pe.outputs.length) lines.push(`    out: ${pe.outputs.join(', ')}`);
  }
  lines.push('Connections:');
  if (json.edges.length === 0) lines.push('  (none)');
  for (const e of json.edges) lines.push(`  ${e.from}.${e.fromPort} -> ${e.to}.${e.toPort}`);
  if (json.partitions) {
    lines.push('Partitions:');
    for (const part of json.partitions) lines.push(`  ${part.join(', ')}`);
  }
  return `${lines.join('\n')}\n`;
}

function originOf(loaded: LoadedWorkflow, cwd: string): string | undefined {
  const source = loaded.source;
  if (!source) return undefined;
  const rel = isAbsolute(source.module) ? relative(cwd, source.module) : source.module;
  const shown = rel.startsWith('..') || isAbsolute(rel) ? source.module : rel;
  return `export '${source.exportName}' of ${shown}`;
}

export function graphCommand(ctx: CliContext): Command {
  return workflowOptions(new Command('graph'))
    .description('print a workflow graph: its PEs, ports, groupings and connections (or draw it: --dot, --svg)')
    .argument('<workflow>', 'workflow module: a .ts or .js file, or a package')
    .addOption(new Option('--dot', 'print a Graphviz drawing (composites as clusters)').conflicts(['json', 'svg']))
    .addOption(new Option('--svg', 'print the drawing as SVG (Graphviz built in, nothing to install)').conflicts('json'))
    .addOption(new Option('--json', 'print the graph as JSON'))
    .action(async (workflow: string, opts: { attr?: string; args?: string; dot?: boolean; svg?: boolean; json?: boolean }) => {
      const loaded = await loadWorkflow(workflow, { exportName: opts.attr, args: parseArgsJSON(opts.args), cwd: ctx.cwd, compile: compiledWorkflow });
      loaded.graph.validate();
      if (opts.dot) ctx.stdout.write(loaded.graph.toDot());
      else if (opts.svg) ctx.stdout.write(await (await import('../svg.js')).dotToSvg(loaded.graph.toDot()));
      else if (opts.json) ctx.stdout.write(`${toJSONText(loaded.graph.toJSON(), 2)}\n`);
      else ctx.stdout.write(formatGraphText(loaded.graph.toJSON(), originOf(loaded, ctx.cwd)));
    });
}
