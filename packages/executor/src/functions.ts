import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { callerDirectory, definitionSite } from './call-site.js';
import { sourceFrameMapper } from './source-frames.js';
import { TaskFunctionError } from './errors.js';
import type { FnSpec } from './protocol.js';

/** Shared by every copy of this package, like the future brand. */
const TASK_REF = Symbol.for('d4.executor.taskRef');

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyFunction = (...args: any[]) => any;

/** A function named by module and export, usable in `submit` without importing it here. */
export interface TaskRef<F extends AnyFunction = AnyFunction> {
  readonly [TASK_REF]: { module: string; exportName: string };
  /** Phantom: carries the function type for `submit`'s typing. */
  readonly __fn?: F;
}

/**
 * Marks `fn` as an export of the module at `moduleUrl` (pass `import.meta.url`), so that the
 * executor ships it by reference: the worker imports the module and takes the export
 * `exportName`. Use it for functions that use imports or module variables:
 *
 *     export const calc = task(import.meta.url, 'calc', (i: number) => helper(i));
 *
 * The module should have no side effects on import (workers import it).
 */
export function task<F extends AnyFunction>(moduleUrl: string, exportName: string, fn: F): F {
  if (typeof fn !== 'function') throw new TypeError(`task(): the third argument must be the function exported as '${exportName}'`);
  Object.defineProperty(fn, TASK_REF, { value: { module: normalizeModule(moduleUrl), exportName }, enumerable: false });
  return fn;
}

/** Names an export of a module (file URL, path or package specifier) without importing it. */
export function taskRef<F extends AnyFunction = AnyFunction>(module: string, exportName: string): TaskRef<F> {
  return { [TASK_REF]: { module: normalizeModule(module), exportName } } as TaskRef<F>;
}

export function isTaskRef(value: unknown): value is TaskRef {
  return typeof value === 'object' && value !== null && TASK_REF in value;
}

/**
 * A module as a URL the worker can import. A relative path is resolved from the file that
 * called task()/taskRef() (as an import in that file would be), not from the working
 * directory, which is wherever the program happened to be started.
 */
function normalizeModule(module: string): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(module)) return module; // file:, data:, node: URLs
  if (isAbsolute(module)) return pathToFileURL(module).href;
  if (module.startsWith('.')) return pathToFileURL(resolve(callerDirectory() ?? process.cwd(), module)).href;
  return module; // a package specifier, resolved by the worker
}

/** What the executor knows about a task function. */
export interface FunctionInfo {
  /** Per-executor number, so each worker gets the definition once. */
  key: number;
  spec: FnSpec;
  label: string;
  /** Set when the function cannot be shipped at all; tasks using it fail with this. */
  error?: TaskFunctionError;
  /** Takes the frames of a worker's stack inside the function back to its original file and line (TypeScript). */
  mapStack?: (stack: string) => string;
}

/**
 * How a function will cross: by reference when it was marked with `task()` or is a
 * `taskRef()`, else by source. Built-ins, bound functions and classes have no usable
 * source and are refused here, before any worker sees them.
 */
export function describeFunction(fn: AnyFunction | TaskRef, key: number): FunctionInfo {
  const ref = (fn as unknown as Record<symbol, { module: string; exportName: string } | undefined>)[TASK_REF];
  if (ref) {
    return { key, spec: { k: 'ref', module: ref.module, exportName: ref.exportName }, label: ref.exportName };
  }
  if (typeof fn !== 'function') {
    const error = new TaskFunctionError('D4_TASK_NOT_SHIPPABLE', `submit() needs a function or a taskRef(module, exportName), got ${fn === null ? 'null' : typeof fn}`);
    return { key, spec: { k: 'src', source: '', name: '?' }, label: '?', error };
  }
  const name = fn.name || 'anonymous';
  const raw = Function.prototype.toString.call(fn);
  const source = normalizeSource(raw);
  const advice = `export it from a module without side effects and mark it with task(import.meta.url, '${name}', ${name}), or pass taskRef('path/to/module.ts', '${name}')`;
  if (/\{\s*\[native code\]\s*\}\s*$/.test(source)) {
    const error = new TaskFunctionError('D4_TASK_NOT_SHIPPABLE', `task function ${name} is a built-in or bound function, whose source a worker cannot rebuild; wrap it in a self-contained function (e.g. (xs) => xs.reduce((a, b) => a + b, 0)), or ${advice}`);
    return { key, spec: { k: 'src', source, name }, label: name, error };
  }
  if (/^class\b/.test(source)) {
    const error = new TaskFunctionError('D4_TASK_NOT_SHIPPABLE', `task function ${name} is a class; submit a function that creates and uses the instance instead`);
    return { key, spec: { k: 'src', source, name }, label: name, error };
  }
  const at = definitionSite(raw, name);
  let mapper: ((stack: string) => string) | undefined | null = null;
  // Decoding the caller's source map waits for the first failure of the task.
  const mapStack = at && !at.exact ? (stack: string) => (mapper === null ? (mapper = sourceFrameMapper(at, source, raw)) : mapper)?.(stack) ?? stack : undefined;
  return { key, spec: { k: 'src', source, name, ...(at ? { at } : {}) }, label: name, ...(mapStack ? { mapStack } : {}) };
}

/** Turns a method's source (`calc(a) {…}`, `async calc(a) {…}`) into a function expression. */
function normalizeSource(source: string): string {
  const s = source.trim();
  if (/^(async\s+)?function\b/.test(s)) return s;
  if (/^(async\s*)?(\([^)]*\)|[\w$]+)\s*=>/.test(s)) return s;
  if (/^async\s*\(/.test(s)) return s;
  const method = /^(async\s+)?(\*\s*)?([\w$]+)\s*\(/.exec(s);
  if (method) return `${method[1] ?? ''}function ${method[2] ?? ''}${s.slice(method[1]?.length ?? 0).replace(/^\*\s*/, '')}`;
  return s;
}
