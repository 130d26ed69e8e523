import { Command } from 'commander';
import { D4Error } from '@d4/core';
import type { CliContext } from '../io.js';
import { Interrupt } from '../interrupt.js';
import { mappingOptionValues } from '../mapping-options.js';
import { knownMappings } from './list.js';
import type { MappingSlot } from './mapping-slot.js';

export function workerCommand(ctx: CliContext, slot: MappingSlot, state: { interrupt?: Interrupt }): Command {
  return new Command('worker')
    .description("join a running job as a worker, on mappings that have workers (e.g. the Redis mappings); runs until the job's driver ends it")
    .argument('<mapping>', 'the mapping of the job')
    .option('--verbose', 'print what the worker does on stderr')
    .addHelpText('after', "\nEach mapping adds its own options: 'd4 worker <mapping> --help' shows them.")
    .action(async (name: string, flags: { verbose?: boolean }, command: Command) => {
      const mapping = slot.get();
      if (typeof mapping.worker !== 'function') {
        const supported = (await knownMappings(ctx.cwd)).filter((e) => e.worker).map((e) => e.name);
        throw new D4Error(
          'D4_NO_WORKER',
          `mapping '${name}' has no workers to start: it runs whole jobs from 'd4 run'; ` +
            (supported.length ? `'d4 worker' works with ${supported.join(', ')}` : 'none of the installed mappings supports d4 worker'),
        );
      }
      const interrupt = (state.interrupt = new Interrupt(ctx));
      try {
        await mapping.worker({ ...mappingOptionValues(command, slot.registered), verbose: flags.verbose === true, signal: interrupt.signal });
      } finally {
        interrupt.dispose();
      }
    });
}
