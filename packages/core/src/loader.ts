import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { mapCompiledStacks } from './compiled-stacks.js';
import { WorkflowLoadError, D4Error } from './errors.js';
import { isWorkflowGraph, type LoadedWorkflow, type WorkflowInput, type WorkflowSource } from './mapping.js';
import type { WorkflowGraph } from './graph.js';

/**
 * Where `@d4/runtime` writes workflow modules compiled for workers (inside a node_modules
 * folder). The loader maps stack frames in modules from there to the user's files
 * (compiled-stacks.ts).
 */
export const COMPILED_WORKFLOW_DIR = `${'/'}node_modules${'/'}.cache${'/'}d4${'/'}`;

const isCompiledWorkflow = (file: string): boolean => file.includes(COMPILED_WORKFLOW_DIR);

export interface LoadWorkflowOptions {
  /** The export to use (`-a`). Default: the default export, else the one graph exported. */
  exportName?: string;
  /** JSON arguments passed to a factory export. */
  args?: unknown;
  /** Where relative paths and package names are resolved from. Default: process.cwd(). */
  cwd?: string;
  /**
   * For a TypeScript module: returns a compiled JavaScript copy to import instead, or the
   * module itself (the CLI passes prepareWorkerSource's cache, so that a warm start loads
   * plain JavaScript without registering tsx). The graph's source stays the original module.
   */
  compile?: (module: string) => Promise<string>;
  /**
   * Imports the module afresh, under its URL with `?d4-instance=<instance>`: its top level
   * runs again and builds new PE objects, as it would in a process of its own. A shared
   * pool gives each of the workers it hosts in one thread an instance of its own.
   */
  instance?: string;
}

/**
 * Imports a workflow module and finds its graph. The module may be a `.ts` file (loaded
 * through tsx), a `.js`/`.mjs` file, or a package specifier. An export may be a
 * WorkflowGraph or a factory `(args) => WorkflowGraph` (sync or async).
 */
export async function loadWorkflow(spec: string, options: LoadWorkflowOptions = {}): Promise<LoadedWorkflow> {
  const cwd = options.cwd ?? process.cwd();
  const module = resolveModuleSpecifier(spec, cwd);
  const namespace = await importModule(options.compile && TYPESCRIPT_FILE.test(module) ? await options.compile(module) : module, spec, options.instance);
  const exportName = pickExport(namespace, spec, options.exportName);
  const value = namespace[exportName];
  let graph: unknown = value;
  if (typeof value === 'function' && !isWorkflowGraph(value)) {
    try {
      graph = await (value as (args: unknown) => unknown)(options.args);
    } catch (error) {
      throw new WorkflowLoadError(`the factory ${exportName}() of ${spec} threw: ${(error as Error).message}`, 'D4_WORKFLOW_FACTORY', { cause: error });
    }
  }
  if (!isWorkflowGraph(graph)) {
    throw new WorkflowLoadError(
      `export '${exportName}' of ${spec} is ${describeExport(value)}, not a WorkflowGraph${typeof value === 'function' ? ' (the factory did not return one)' : ''}; export a graph, or a function that returns one`,
      'D4_WORKFLOW_NOT_A_GRAPH',
    );
  }
  return { graph: graph as WorkflowGraph, source: { module, exportName, ...(options.args !== undefined ? { args: options.args } : {}) } };
}

/**
 * Rebuilds a graph in a worker from the source the driver loaded it from; `instance`: from
 * a fresh evaluation of the module (LoadWorkflowOptions.instance).
 */
export async function rebuildWorkflow(source: WorkflowSource, instance?: string): Promise<WorkflowGraph> {
  const loaded = await loadWorkflow(source.module, { exportName: source.exportName, args: source.args, ...(instance !== undefined ? { instance } : {}) });
  return loaded.graph;
}

/**
 * The source of a workflow for mappings whose workers rebuild the graph. A graph built
 * inline (no module) cannot be rebuilt and is refused with what to do.
 */
export function requireWorkflowSource(workflow: WorkflowInput, mapping: string): WorkflowSource {
  const source = isWorkflowGraph(workflow) ? undefined : workflow.source;
  if (!source) {
    throw new WorkflowLoadError(
      `mapping '${mapping}' runs PEs in other threads or processes, which rebuild the graph by importing its module, but this graph was built inline; ` +
        `export it from a module (export default graph, or export a function (args) => graph that takes JSON arguments) and pass loadWorkflow('path/to/module.ts') to run(), or run it on 'simple'`,
      'D4_WORKFLOW_NOT_A_MODULE',
    );
  }
  return source;
}

function resolveModuleSpecifier(spec: string, cwd: string): string {
  if (spec.startsWith('file:')) return fileURLToPath(spec);
  const asPath = isAbsolute(spec) ? spec : resolve(cwd, spec);
  if (existsSync(asPath)) return asPath;
  if (/^\.{0,2}\//.test(spec) || /\.[cm]?[jt]s$/.test(spec)) {
    throw new WorkflowLoadError(`workflow module not found: ${asPath}; check the path (it is resolved from ${cwd})`, 'D4_WORKFLOW_NOT_FOUND');
  }
  // A package specifier (or a dotted Python-style name, which we point out).
  try {
    return createRequire(resolve(cwd, 'package.json')).resolve(spec);
  } catch (error) {
    const hint = /^[\w]+(\.[\w]+)+$/.test(spec) ? ` (d4 takes a file path such as ${spec.replace(/\./g, '/')}.ts, not a dotted module name)` : '';
    throw new WorkflowLoadError(`workflow module not found: '${spec}' is neither a file nor an installed package${hint}`, 'D4_WORKFLOW_NOT_FOUND', { cause: error });
  }
}

async function importModule(path: string, spec: string, instance?: string): Promise<Record<string, unknown>> {
  if (TYPESCRIPT_FILE.test(path)) await ensureTypeScriptLoader();
  // A workflow compiled for workers carries a source map: errors then name the user's files.
  else if (path.includes(COMPILED_WORKFLOW_DIR)) mapCompiledStacks(isCompiledWorkflow);
  try {
    const url = pathToFileURL(path);
    if (instance !== undefined) url.searchParams.set('d4-instance', instance);
    return (await import(url.href)) as Record<string, unknown>;
  } catch (error) {
    if (error instanceof D4Error) throw error;
    const noCore = coreNotFoundFrom(path, spec);
    if (noCore) throw new WorkflowLoadError(noCore, 'D4_WORKFLOW_NO_CORE', { cause: error });
    throw new WorkflowLoadError(`cannot load the workflow module ${spec}: ${(error as Error).message}`, 'D4_WORKFLOW_IMPORT', { cause: error });
  }
}

/**
 * Why a workflow that imports @d4/core failed, when @d4/core cannot be resolved from its
 * file (a file outside any project that has it, such as /tmp/wf.ts). Node's own message is
 * no help there: for a .ts file loaded through tsx it is "Cannot require() ES Module … in a
 * cycle". Asked only after the import failed, so a workflow that reaches core some other
 * way is never refused.
 */
function coreNotFoundFrom(path: string, spec: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  if (!/['"]@d4\/core(\/[^'"]*)?['"]/.test(text)) return undefined;
  // Looked up as ES modules are resolved: node_modules folders from the file's up, never
  // NODE_PATH (which require() would also search, and which pnpm sets for its scripts).
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'node_modules', '@d4', 'core', 'package.json'))) return undefined;
    if (dirname(dir) === dir) break;
  }
  const dir = dirname(path);
  return (
    `the workflow module ${spec} imports @d4/core, which cannot be found from ${dir} (no node_modules/@d4/core there or in a folder above it); ` +
    `install @d4/core in the project that holds the file (npm install @d4/core next to its package.json, or npm init -y && npm install @d4/core in ${dir}), or put the file inside a project that has @d4/core`
  );
}

const TYPESCRIPT_FILE = /\.[cm]?tsx?$/;
let typeScriptReady: Promise<void> | undefined;

/**
 * Makes sure this thread can import TypeScript before the first workflow import: Node
 * remembers a failed import of a file for good, so a workflow (or a module it imports)
 * must never be tried before tsx is in place. A probe file of core's own is imported
 * first; where that fails (plain Node), tsx's loader is registered. Under tsx or jest the
 * probe loads and nothing is registered twice.
 */
function ensureTypeScriptLoader(): Promise<void> {
  typeScriptReady ??= (async () => {
    try {
      await import(new URL('../assets/ts-probe.ts', import.meta.url).href);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw error;
      let api: { register: () => unknown };
      try {
        api = (await import('tsx/esm/api')) as typeof api;
      } catch (missing) {
        throw new WorkflowLoadError(
          `loading a TypeScript workflow needs tsx, which is not installed where @d4/core is: run \`npm install tsx\` in your project (or run the workflow as JavaScript, or start node with --import tsx)`,
          'D4_TSX_MISSING',
          { cause: missing },
        );
      }
      api.register();
    }
  })();
  return typeScriptReady;
}

function pickExport(namespace: Record<string, unknown>, spec: string, wanted: string | undefined): string {
  const names = Object.keys(namespace);
  if (wanted !== undefined) {
    if (wanted in namespace) return wanted;
    throw new WorkflowLoadError(`${spec} has no export '${wanted}' (-a); its exports are: ${names.join(', ') || '(none)'}`, 'D4_WORKFLOW_NO_EXPORT');
  }
  if (namespace.default !== undefined && (isWorkflowGraph(namespace.default) || typeof namespace.default === 'function')) return 'default';
  const graphs = names.filter((n) => isWorkflowGraph(namespace[n]));
  if (graphs.length === 1) return graphs[0];
  if (graphs.length > 1) {
    throw new WorkflowLoadError(`${spec} exports several graphs (${graphs.join(', ')}); pick one with -a NAME`, 'D4_WORKFLOW_AMBIGUOUS');
  }
  const factories = names.filter((n) => typeof namespace[n] === 'function');
  throw new WorkflowLoadError(
    `${spec} exports no WorkflowGraph${factories.length ? `; if one of its functions builds the graph, pick it with -a (candidates: ${factories.join(', ')})` : '; export the graph (export default graph)'}`,
    'D4_WORKFLOW_NO_GRAPH',
  );
}

function describeExport(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'function') return `a function ${value.name || ''}`.trim();
  if (typeof value === 'object') return `an object (${(value as object).constructor?.name ?? 'Object'})`;
  return `a ${typeof value}`;
}
