import { resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { guardProcessExit, inputSpecFromOptions, loadWorkflow, peExitError, resolveInputs, type RunOptions, type RunResult } from '@d4/core';
import type { CliContext } from '../io.js';
import { Interrupt } from '../interrupt.js';
import { mappingOptionValues } from '../mapping-options.js';
import { formatJSON, formatPrettyCounts, formatPrettyOutputs, formatStats } from '../output.js';
import { ProgressLine } from '../progress.js';
import type { MappingSlot } from './mapping-slot.js';
import { compiledWorkflow, parseArgsJSON, workflowOptions } from './workflow-options.js';

interface RunFlags {
  attr?: string;
  args?: string;
  iterations?: number;
  data?: string;
  file?: string;
  results: 'pretty' | 'json' | 'none';
  count?: boolean;
  verbose?: boolean;
}

function parseIterations(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number of iterations (0 or more)');
  return n;
}

export function runCommand(ctx: CliContext, slot: MappingSlot, state: { interrupt?: Interrupt }): Command {
  return workflowOptions(
    new Command('run')
      .description('run a workflow on a mapping and print the values written to unconnected outputs')
      .argument('<mapping>', "the mapping to run on ('d4 list' shows them)")
      .argument('<workflow>', 'workflow module: a .ts or .js file, or a package'),
  )
    .option('-i, --iterations <n>', 'feed every root PE n times', parseIterations)
    .option('-d, --data <json>', 'inputs of named PEs as JSON: {"peNameOrId": count | [inputs…]}')
    .option('-f, --file <file>', 'a JSON file of inputs of named PEs (as -d)')
    .addOption(new Option('--results <format>', 'how the outputs are printed').choices(['pretty', 'json', 'none']).default('pretty'))
    .option('--count', 'count the outputs instead of keeping them (constant memory for huge runs)')
    .option('--verbose', "print the mapping's details and the run's figures per PE on stderr")
    .addHelpText('after', "\nEach mapping adds its own options: 'd4 run <mapping> --help' shows them, 'd4 list' lists them all.")
    .action(async (_mappingName: string, workflow: string, flags: RunFlags, command: Command) => {
      const mapping = slot.get();
      // Everything the user gave is checked before the run starts.
      const args = parseArgsJSON(flags.args);
      const inputs = inputSpecFromOptions({
        iterations: flags.iterations,
        data: flags.data,
        file: flags.file === undefined ? undefined : resolve(ctx.cwd, flags.file),
      });
      const loaded = await loadWorkflow(workflow, { exportName: flags.attr, args, cwd: ctx.cwd, compile: compiledWorkflow });
      const flat = loaded.graph.flatten().validate();
      resolveInputs(flat, inputs);

      const progress = new ProgressLine(ctx.stderr, flat.pes().map((pe) => pe.id), ctx.progressDelayMs, ctx.progressIntervalMs);
      const interrupt = (state.interrupt = new Interrupt(ctx));
      const options: RunOptions = {
        ...mappingOptionValues(command, slot.registered),
        // Nobody sees the values with --results none: keep counts only, as --count does,
        // so that a long run does not hold every value it wrote in memory.
        collect: flags.count || flags.results === 'none' ? 'count' : 'values',
        verbose: flags.verbose === true,
        progress: progress.progress,
        signal: interrupt.signal,
        log: (peId, instance, message) => progress.writeAbove(`${peId} (rank ${instance}): ${message}\n`),
      };
      let result: RunResult;
      // PEs that run in this process (all of them on simple, sources on the Redis mappings) end d4 if
      // they call process.exit: say which PE and item, then end with the code it asked for.
      const guard = guardProcessExit((code, call) => {
        progress.stop();
        const error = peExitError(code, call, `d4 itself (the PE ran in d4's own process, as every PE does on ${mapping.name === 'simple' ? 'simple' : 'simple and a source does on the Redis mappings'})`);
        ctx.stderr.write(`d4: ${error.message} (${error.code}); d4 exits with code ${code}\n`);
      });
      progress.start();
      try {
        result = await mapping.run(loaded, inputs, options);
      } finally {
        guard.restore();
        progress.stop();
        interrupt.dispose();
      }
      if (flags.results === 'json') ctx.stdout.write(formatJSON(result));
      else if (flags.results === 'pretty') ctx.stdout.write(flags.count ? formatPrettyCounts(result.counts) : formatPrettyOutputs(result.outputs));
      if (flags.verbose) ctx.stderr.write(formatStats(result.stats));
    });
}
