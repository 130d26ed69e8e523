import type { Command } from 'commander';
import { OptionError } from '@d4/core';

/** The options that pick a graph out of a workflow module (`d4 run`, `d4 graph`). */
export function workflowOptions(command: Command): Command {
  return command
    .option('-a, --attr <name>', 'the export holding the graph or its factory (default: the default export, else the one graph exported)')
    .option('--args <json>', 'JSON arguments passed to a factory export, e.g. \'{"n": 10}\'');
}

/** `--args`: JSON for a factory export, refused before anything is loaded when it is not JSON. */
export function parseArgsJSON(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new OptionError(`--args is not valid JSON: ${(error as Error).message}; give the factory's arguments as JSON, e.g. --args '{"n": 10}'`, 'D4_ARGS_JSON');
  }
}
