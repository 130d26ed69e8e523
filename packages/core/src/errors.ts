import type { D4ErrorCode } from './error-codes.js';

/**
 * Every error a user can cause is a D4Error with a stable `code`, so that programs can
 * react to it and the CLI can print it without a stack. Messages say what went wrong,
 * where (PE id, port, file, option) and what to do.
 */
export class D4Error extends Error {
  readonly code: D4ErrorCode;
  constructor(code: D4ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** The graph is malformed: a cycle, an unknown port, a PE added twice, a bad composite mapping. */
export class GraphError extends D4Error {
  constructor(message: string, code: D4ErrorCode = 'D4_GRAPH') {
    super(code, message);
  }
}

/** The input spec (-i / -d / -f) is invalid: bad JSON, missing file, unknown PE name. */
export class InputError extends D4Error {
  constructor(message: string, code: D4ErrorCode = 'D4_INPUT', options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** A workflow module could not be loaded or holds no usable graph. */
export class WorkflowLoadError extends D4Error {
  constructor(message: string, code: D4ErrorCode = 'D4_WORKFLOW', options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** A mapping name that d4 does not know and no package provides. */
export class UnknownMappingError extends D4Error {
  constructor(message: string) {
    super('D4_UNKNOWN_MAPPING', message);
  }
}

/** A known mapping whose package is not installed. */
export class MappingNotInstalledError extends D4Error {
  readonly packageName: string;
  constructor(mapping: string, packageName: string, cause?: unknown) {
    super(
      'D4_MAPPING_NOT_INSTALLED',
      `mapping '${mapping}' is provided by ${packageName}, which is not installed here: run \`npm install ${packageName}\` (or \`pnpm add ${packageName}\`) in your project`,
      { cause },
    );
    this.packageName = packageName;
  }
}

/** An option given to a mapping or the CLI is invalid. */
export class OptionError extends D4Error {
  constructor(message: string, code: D4ErrorCode = 'D4_OPTION') {
    super(code, message);
  }
}

/** Fixed mappings: the graph needs more processes than the job has. */
export class ProcessAssignmentError extends D4Error {
  readonly required: number;
  constructor(message: string, required: number) {
    super('D4_TOO_FEW_PROCESSES', message);
    this.required = required;
  }
}

/** A stateless-only mapping was given a graph with stateful PEs. */
export class StatefulGraphError extends D4Error {
  readonly peId: string;
  constructor(mapping: string, peId: string, reason: string, alternatives: string[]) {
    super(
      'D4_STATEFUL_REFUSED',
      `mapping '${mapping}' runs stateless PEs only, but PE ${peId} is stateful (${reason}); run this graph with ${alternatives.map((a) => `'${a}'`).join(' or ')}`,
    );
    this.peId = peId;
  }
}

/** A value that the codec cannot carry across a process or host boundary. */
export class CodecError extends D4Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super('D4_CODEC', message, options);
  }
}

/** A PE threw (or rejected) while processing: the run fails with its id, the item and the stack. */
export class PEError extends D4Error {
  readonly peId: string;
  readonly item: unknown;
  readonly peStack: string | undefined;
  /** Where it failed: process(), preprocess() or postprocess(). */
  readonly phase: 'process' | 'preprocess' | 'postprocess';
  constructor(peId: string, phase: 'process' | 'preprocess' | 'postprocess', item: unknown, cause: unknown) {
    const inner = cause instanceof Error ? cause : new Error(String(cause));
    const where = phase === 'process' ? `while processing ${previewValue(item)}` : `in ${phase}()`;
    super('D4_PE_FAILED', `PE ${peId} failed ${where}: ${inner.message}`, { cause: inner });
    this.peId = peId;
    this.item = item;
    this.peStack = inner.stack;
    this.phase = phase;
  }
}

/** A worker process or thread died, or a server went away, during a run. */
export class WorkerError extends D4Error {
  constructor(message: string, code: D4ErrorCode = 'D4_WORKER', options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** A short, safe rendering of a value for error messages. */
export function previewValue(value: unknown, max = 200): string {
  let text: string;
  try {
    text = typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value, jsonReplacer);
  } catch {
    text = String(value);
  }
  if (text === undefined) text = String(value);
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function jsonReplacer(_key: string, v: unknown): unknown {
  if (typeof v === 'bigint') return `${v}n`;
  if (v instanceof Map) return Object.fromEntries(v);
  if (v instanceof Set) return [...v];
  return v;
}

/** The type of a value as a user would name it, for codec and input errors. */
export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`;
  if (typeof value !== 'object') return typeof value;
  const ctor = (value as object).constructor;
  return ctor && ctor.name ? ctor.name : 'object';
}
