import { runInNewContext } from 'node:vm';
import type { D4ErrorCode } from '@d4/core';
import { placedLine, type FnSpec, type SourceSite } from './protocol.js';

/**
 * Worker side: turns a FnSpec back into a callable function.
 *
 * A function sent by source is evaluated inside a `with` scope whose proxy answers for
 * every name that is neither a JavaScript built-in nor a standard Node global. So a free
 * variable (something the function closed over, or an import of its module) is not looked
 * up in the worker's globals, where it could silently mean something else: using it throws
 * a D4_TASK_NOT_SELF_CONTAINED error that says what to do, and the task fails even if the
 * function catches that error.
 */

/** An error raised by the executor's own machinery in the worker (not by the task). */
export class ExecutorSideError extends Error {
  constructor(
    readonly code: D4ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'TaskFunctionError';
  }
}

const NODE_GLOBALS = [
  'console', 'process', 'Buffer', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate', 'clearImmediate',
  'queueMicrotask', 'structuredClone', 'URL', 'URLSearchParams', 'TextEncoder', 'TextDecoder', 'performance', 'fetch', 'Headers',
  'Request', 'Response', 'FormData', 'AbortController', 'AbortSignal', 'Blob', 'crypto', 'atob', 'btoa', 'EventTarget', 'Event',
  'MessageChannel', 'MessagePort', 'BroadcastChannel', 'global', 'globalThis', 'WebAssembly',
];

let allowedGlobals: Set<string> | undefined;
function allowed(): Set<string> {
  allowedGlobals ??= new Set([...(runInNewContext('Object.getOwnPropertyNames(globalThis)') as string[]), ...NODE_GLOBALS]);
  return allowedGlobals;
}

/** Helpers that TypeScript loaders inject into function sources (esbuild's keepNames). */
const INJECTED_HELPERS: Record<string, unknown> = {
  __name: (target: unknown) => target,
};

/** The last free-variable violation in this worker; checked after each task, so catching it does not help. */
export let scopeViolation: ExecutorSideError | undefined;
export function clearScopeViolation(): void {
  scopeViolation = undefined;
}

export async function rebuildFunction(spec: FnSpec): Promise<(...args: unknown[]) => unknown> {
  return spec.k === 'ref' ? importExport(spec.module, spec.exportName) : fromSource(spec.source, spec.name, spec.at);
}

/**
 * The function's source, compiled so that a stack inside it names the file and line it was
 * written at, not `eval at fromSource … <anonymous>`: a `//# sourceURL` gives the file, and
 * blank lines before the source put its first line where it is in that file (`new Function`
 * puts two lines of its own first; vm's lineOffset would do it without padding, but code
 * compiled by vm cannot `await import()` without an experimental flag). The first line is
 * indented to the function's column when the position is exact.
 */
function compile(source: string, name: string, at: SourceSite | undefined): (scope: object) => unknown {
  // An anonymous arrow takes the name it was submitted under (frames say `at checkArrow`,
  // not `at eval`): a computed key names the function it holds, without a scope lookup.
  const key = JSON.stringify(name);
  const [open, close] = name && name !== 'anonymous' && name !== '?' ? [`({ [${key}]: (`, `) })[${key}]`] : ['(', ')'];
  // `with` needs sloppy-mode code; the function itself behaves as written otherwise.
  if (!at) return new Function('__d4_scope__', `with (__d4_scope__) { return ${open}${source}\n${close}; }`) as (scope: object) => unknown;
  const padding = placedLine(at) - 3;
  const indent = at.exact ? ' '.repeat(Math.max(0, at.column - 1)) : '';
  const body = `with (__d4_scope__) { return ${open}${'\n'.repeat(padding)}${indent}${source}\n${close}; }\n//# sourceURL=${at.file.replace(/[\r\n]/g, '')}`;
  return new Function('__d4_scope__', body) as (scope: object) => unknown;
}

function fromSource(source: string, name: string, at?: SourceSite): (...args: unknown[]) => unknown {
  const globals = allowed();
  const violation = (key: string) => {
    scopeViolation = new ExecutorSideError(
      'D4_TASK_NOT_SELF_CONTAINED',
      `task function ${name} was sent to the worker by source, but it uses '${key}', which the worker does not have (a variable it closes over, or an import of its module); ` +
        `pass '${key}' as an argument, or export the function from a module without side effects and mark it: export const ${name} = task(import.meta.url, '${name}', …) (see the @d4/executor README, "Functions")`,
    );
    return scopeViolation;
  };
  const scope = new Proxy(Object.create(null) as object, {
    has: (_target, key) => typeof key === 'string' && !globals.has(key),
    get: (_target, key) => {
      if (typeof key !== 'string') return undefined; // Symbol.unscopables
      if (key in INJECTED_HELPERS) return INJECTED_HELPERS[key];
      throw violation(key);
    },
    set: (_target, key) => {
      throw violation(String(key));
    },
  });
  let fn: unknown;
  try {
    fn = compile(source, name, at)(scope);
  } catch (error) {
    throw new ExecutorSideError(
      'D4_TASK_NOT_SHIPPABLE',
      `task function ${name} cannot be rebuilt from its source in the worker (${(error as Error).message}); export it from a module and mark it with task(import.meta.url, '${name}', ${name}) so that the worker imports it instead`,
    );
  }
  if (typeof fn !== 'function') {
    throw new ExecutorSideError('D4_TASK_NOT_SHIPPABLE', `the source of task function ${name} does not evaluate to a function; mark it with task(import.meta.url, '${name}', ${name})`);
  }
  return fn as (...args: unknown[]) => unknown;
}

const TASK_REF = Symbol.for('d4.executor.taskRef');
let tsxRegistered: Promise<void> | undefined;

async function importExport(module: string, exportName: string): Promise<(...args: unknown[]) => unknown> {
  let namespace: Record<string, unknown>;
  try {
    namespace = (await importModule(module)) as Record<string, unknown>;
  } catch (error) {
    throw new ExecutorSideError('D4_TASK_IMPORT', `the worker cannot import ${module} to get task function '${exportName}': ${(error as Error).message}; check that the module exists and imports cleanly from the worker's directory (${process.cwd()})`);
  }
  const fn = namespace[exportName];
  if (typeof fn !== 'function') {
    const names = Object.keys(namespace).filter((n) => typeof namespace[n] === 'function');
    throw new ExecutorSideError(
      'D4_TASK_EXPORT',
      `${module} has no exported function '${exportName}' (${fn === undefined ? 'no such export' : `it is a ${typeof fn}`}); its exported functions are: ${names.join(', ') || '(none)'}; the name given to task()/taskRef() must be the export's name`,
    );
  }
  // A function marked with task() in that module carries the name it was marked with: if that
  // is another name, the caller's task() call names the wrong export, and running it would give a wrong result.
  const markOf = (value: unknown) => (typeof value === 'function' ? (value as unknown as Record<symbol, { exportName?: string } | undefined>)[TASK_REF]?.exportName : undefined);
  const marked = markOf(fn);
  if (marked !== undefined && marked !== exportName) {
    throw new ExecutorSideError(
      'D4_TASK_EXPORT',
      `export '${exportName}' of ${module} is the function marked as task(…, '${marked}', …); the name given to task() must be the name it is exported under`,
    );
  }
  // Two exports marked with the same name: the caller may have submitted the other one.
  const claimants = Object.keys(namespace).filter((name) => markOf(namespace[name]) === exportName);
  if (claimants.length > 1) {
    throw new ExecutorSideError(
      'D4_TASK_EXPORT',
      `exports ${claimants.map((n) => `'${n}'`).join(' and ')} of ${module} are all marked as task(…, '${exportName}', …), so the worker cannot tell which one was submitted; give each task() the name of its own export`,
    );
  }
  return fn as (...args: unknown[]) => unknown;
}

async function importModule(module: string): Promise<unknown> {
  // Plain Node cannot load TypeScript: register tsx's loader before the first .ts import
  // (a failed import is cached by URL, so registering after the failure would not help).
  // One promise, awaited by every import: two functions of .ts modules in one batch must both
  // wait for the registration (a flag set before it ended let the second import fail).
  if (/\.[cm]?tsx?(\?.*)?$/.test(module)) {
    tsxRegistered ??= import('tsx/esm/api').then((api: { register: () => unknown }) => {
      api.register();
    });
    await tsxRegistered;
  }
  return import(module);
}
