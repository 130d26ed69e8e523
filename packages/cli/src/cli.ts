import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { addMappingSearchPath } from '@d4/core';
import { graphCommand } from './commands/graph.js';
import { listCommand } from './commands/list.js';
import { MappingSlot } from './commands/mapping-slot.js';
import { runCommand } from './commands/run.js';
import { workerCommand } from './commands/worker.js';
import { EXIT, exitCodeFor, reportError } from './exit-codes.js';
import type { Interrupt } from './interrupt.js';
import { cliContext, type CliContext, type RunCliOptions } from './io.js';
import { firstPositional } from './mapping-options.js';

// Backends installed next to the CLI (e.g. globally with it) are found too, not only the
// ones in the user's project.
addMappingSearchPath(import.meta.url);

function packageVersion(): string {
  // src/cli.ts and dist/cli.js both sit one level below the package root.
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function buildProgram(ctx: CliContext, slot: MappingSlot, state: { interrupt?: Interrupt }): Command {
  const program = new Command('d4')
    .description('d4: stream workflows of processing elements, run unchanged on several mappings')
    .version(packageVersion(), '-V, --version', 'print the version of d4')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => ctx.stdout.write(text),
      writeErr: (text) => ctx.stderr.write(text),
      // Parse errors are printed by reportError, in d4's one format.
      outputError: () => {},
    })
    .showSuggestionAfterError(true);
  const commands = [runCommand(ctx, slot, state), listCommand(ctx), graphCommand(ctx), workerCommand(ctx, slot, state)];
  for (const command of commands) {
    // Commands made with `new Command` do not inherit the program's settings by themselves.
    command.exitOverride().configureOutput(program.configureOutput()).showSuggestionAfterError(true);
    program.addCommand(command);
  }
  return program;
}

/**
 * The `d4` command line, callable in-process: parses `argv` (the arguments after `d4`),
 * runs the command, writes to `stdout`/`stderr`, and resolves with the exit code
 * (0 ok, 1 run failed, 2 refused before work, 130 interrupted). It never calls process.exit.
 */
export async function runCli(argv: readonly string[], options: RunCliOptions = {}): Promise<number> {
  const ctx = cliContext(options);
  const slot = new MappingSlot();
  const state: { interrupt?: Interrupt } = {};
  const program = buildProgram(ctx, slot, state);
  const at = firstPositional(program, argv);
  const commandName = at === undefined ? undefined : argv[at];
  try {
    const command = program.commands.find((c) => c.name() === commandName);
    // Step one for run/worker: the mapping decides which options exist.
    if (at !== undefined && command && (commandName === 'run' || commandName === 'worker')) {
      await slot.prepare(command, argv.slice(at + 1), ctx.cwd);
    }
    await program.parseAsync([...argv], { from: 'user' });
    return state.interrupt?.aborted ? EXIT.interrupted : EXIT.ok;
  } catch (error) {
    reportError(error, ctx.stderr, commandName && program.commands.some((c) => c.name() === commandName) ? commandName : undefined);
    return exitCodeFor(error, state.interrupt?.aborted ?? false);
  }
}
