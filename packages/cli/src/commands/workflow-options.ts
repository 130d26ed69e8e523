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

/**
 * What `d4 run` and `d4 graph` import for a TypeScript workflow: the compiled copy that
 * workers of the parallel mappings load (core's cache beside node_modules, reused while
 * no file it was built from changed), so that a warm start loads plain JavaScript instead
 * of registering tsx (its loader thread is most of a short run's start-up). Where nothing
 * can be compiled (no node_modules above the file, a TypeScript package import), the
 * module itself, loaded through tsx as before.
 */
export async function compiledWorkflow(module: string): Promise<string> {
  // Loaded here, not at the top: `d4 list` and a JavaScript workflow need none of the runtime.
  const { prepareWorkerSource } = await import('@d4/runtime/compile');
  return (await prepareWorkerSource({ module, exportName: 'default' })).module;
}
