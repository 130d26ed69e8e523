import type { Command } from 'commander';
import { D4Error, loadMapping, type Mapping } from '@d4/core';
import { firstPositional, registerMappingOptions, type RegisteredOption } from '../mapping-options.js';

/**
 * The mapping of `d4 run` / `d4 worker`. Its options become the command's options, so the
 * mapping is loaded from the raw arguments before commander parses them (step one), and
 * the command's action finds it here (step two).
 */
export class MappingSlot {
  mapping?: Mapping;
  registered: RegisteredOption[] = [];

  /** Loads the mapping named in `args` (the command's arguments) and adds its options. */
  async prepare(command: Command, args: readonly string[], cwd: string): Promise<void> {
    const at = firstPositional(command, args);
    if (at === undefined) return; // no mapping given: commander reports the missing argument (or shows help)
    this.mapping = await loadMapping(args[at], { cwd });
    this.registered = registerMappingOptions(command, this.mapping);
  }

  get(): Mapping {
    if (!this.mapping) throw new D4Error('D4_USAGE', 'no mapping was given; name one (d4 list shows them)');
    return this.mapping;
  }
}
