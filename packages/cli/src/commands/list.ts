import { Command } from 'commander';
import { KNOWN_MAPPINGS, loadMapping, type Mapping, type MappingOption } from '@d4/core';
import type { CliContext } from '../io.js';
import { toJSONText } from '../output.js';

/** What `d4 list` knows of one mapping. */
export interface MappingEntry {
  name: string;
  package: string;
  description: string;
  installed: boolean;
  /** Runs stateful PEs (groupings, the stateful flag); unknown when not installed. */
  stateful?: boolean;
  /** Supports `d4 worker`; unknown when not installed. */
  worker?: boolean;
  options: MappingOption[];
  /** The package is there but its mapping could not be loaded. */
  error?: string;
  mapping?: Mapping;
}

/**
 * Every known mapping and its state. Like core's listMappings, but one broken package
 * (installed, failing to load) is reported on its line instead of failing the whole list.
 */
export async function knownMappings(cwd: string): Promise<MappingEntry[]> {
  const entries: MappingEntry[] = [];
  for (const [name, info] of Object.entries(KNOWN_MAPPINGS)) {
    try {
      const mapping = await loadMapping(name, { cwd });
      entries.push({
        name,
        package: info.package,
        description: mapping.description,
        installed: true,
        stateful: mapping.stateful,
        worker: typeof mapping.worker === 'function',
        options: [...mapping.options],
        mapping,
      });
    } catch (error) {
      const code = (error as { code?: string }).code;
      entries.push({
        name,
        package: info.package,
        description: info.description,
        installed: false,
        options: [],
        ...(code === 'D4_MAPPING_NOT_INSTALLED' ? {} : { error: (error as Error).message }),
      });
    }
  }
  return entries;
}

export function formatMappingList(entries: readonly MappingEntry[]): string {
  const width = Math.max(...entries.map((e) => e.name.length)) + 2;
  const lines: string[] = [];
  for (const e of entries) {
    const state = e.installed ? 'installed' : e.error ? 'cannot be loaded' : `not installed (npm install ${e.package})`;
    const traits = e.installed ? [e.stateful ? 'runs stateful PEs' : 'stateless PEs only', ...(e.worker ? ['d4 worker'] : [])] : [];
    lines.push(`${e.name.padEnd(width)}${state}  [${e.package}]${traits.length ? `  ${traits.join(', ')}` : ''}`);
    lines.push(`  ${e.description}`);
    if (e.error) lines.push(`  error: ${e.error}`);
    const flagsWidth = Math.max(0, ...e.options.map((o) => o.flags.length)) + 2;
    for (const o of e.options) {
      const extra = [o.type, ...(o.default !== undefined ? [`default ${JSON.stringify(o.default)}`] : []), ...(o.env ? [`env ${o.env}`] : [])];
      lines.push(`    ${o.flags.padEnd(flagsWidth)}${o.description} (${extra.join(', ')})`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export function listCommand(ctx: CliContext): Command {
  return new Command('list')
    .description('list the mappings d4 knows, whether each is installed, and their options')
    .option('--json', 'print the list as JSON')
    .action(async (opts: { json?: boolean }) => {
      const entries = await knownMappings(ctx.cwd);
      if (opts.json) {
        const plain = entries.map(({ mapping: _mapping, ...rest }) => rest);
        ctx.stdout.write(`${toJSONText(plain, 2)}\n`);
      } else {
        ctx.stdout.write(formatMappingList(entries));
      }
    });
}
