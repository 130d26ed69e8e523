import { Command, InvalidArgumentError, Option } from 'commander';
import { D4Error, type Mapping, type MappingOption } from '@d4/core';

/**
 * The index of the first positional argument among a command's arguments (the subcommand
 * of `d4`, the mapping name of `d4 run` and `d4 worker`), found before the full parse
 * because the mapping decides which options exist. Values of the command's own options
 * are skipped; an option the command does not know yet (a mapping option) is taken for a
 * flag, so mapping options that take values belong after the mapping name.
 */
export function firstPositional(command: Command, args: readonly string[]): number | undefined {
  for (let k = 0; k < args.length; k++) {
    const arg = args[k];
    if (arg === '--') return k + 1 < args.length ? k + 1 : undefined;
    if (arg.length > 1 && arg.startsWith('-')) {
      if (arg.startsWith('--') && arg.includes('=')) continue;
      const option = command.options.find((o) => o.short === arg || o.long === arg);
      if (option && (option.required || option.optional)) k += 1;
      continue;
    }
    return k;
  }
  return undefined;
}

/** One mapping option as registered on a command: where commander puts it, where it goes. */
export interface RegisteredOption {
  declared: MappingOption;
  option: Option;
}

/**
 * Adds a mapping's own options to a command: commander flags, typed values, the default
 * and the environment variable fallback. An option that clashes with the command's own
 * flags is a fault of the mapping package and is refused with both names.
 */
export function registerMappingOptions(command: Command, mapping: Mapping): RegisteredOption[] {
  const registered: RegisteredOption[] = [];
  for (const declared of mapping.options) {
    const option = new Option(declared.flags, declared.description);
    for (const flag of [option.short, option.long]) {
      const owner = flag ? command.options.find((o) => o.short === flag || o.long === flag) : undefined;
      if (owner) {
        throw new D4Error(
          'D4_BAD_MAPPING_PACKAGE',
          `mapping '${mapping.name}' declares the option '${declared.flags}', whose flag ${flag} is already d4 ${command.name()}'s own '${owner.flags}'; the mapping package must choose another flag`,
        );
      }
    }
    if (declared.type === 'number') option.argParser(parseNumber);
    if (declared.default !== undefined) option.default(declared.default);
    if (declared.env) option.env(declared.env);
    option.helpGroup(`Options of mapping '${mapping.name}':`);
    command.addOption(option);
    registered.push({ declared, option });
  }
  return registered;
}

function parseNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError('expected a number, e.g. 4');
  return n;
}

/** The values of a mapping's options after parsing, keyed by the names the mapping reads. */
export function mappingOptionValues(command: Command, registered: readonly RegisteredOption[]): Record<string, unknown> {
  const parsed = command.opts();
  const values: Record<string, unknown> = {};
  for (const { declared, option } of registered) {
    const value = parsed[option.attributeName()];
    if (value !== undefined) values[declared.name] = value;
  }
  return values;
}
