import {
  CodecError,
  D4Error,
  GraphError,
  InputError,
  MappingNotInstalledError,
  OptionError,
  PEError,
  ProcessAssignmentError,
  StatefulGraphError,
  UnknownMappingError,
  WorkerError,
  WorkflowLoadError,
  encode,
  isD4ErrorCode,
  previewValue,
} from '@d4/core';

/**
 * An error as it crosses from a worker (thread, process or host) to the driver: plain data
 * that both structured clone and core's codec carry. One format for every backend, so that
 * the driver rebuilds the same D4Error subclass, with the same code and fields, whichever
 * transport brought it.
 */
export interface WireError {
  /** The class name (`PEError`, `CodecError`, …; `Error` for anything that is not a D4Error). */
  name: string;
  /** The D4Error code; absent for an error that is not a D4Error (a bug, or a library's). */
  code?: string;
  message: string;
  stack?: string;
  /** The error's own fields (`peId`, `phase`, `item`, `required`, …), each codec-safe. */
  fields: Record<string, unknown>;
  /** The cause's message and stack (a PE's own error, for PEError). */
  cause?: { name: string; message: string; stack?: string };
}

/** Every D4Error subclass core defines, by class name: what the driver rebuilds into. */
const CLASSES: Record<string, abstract new (...args: never[]) => D4Error> = {
  D4Error,
  GraphError,
  InputError,
  WorkflowLoadError,
  UnknownMappingError,
  MappingNotInstalledError,
  OptionError,
  ProcessAssignmentError,
  StatefulGraphError,
  CodecError,
  PEError,
  WorkerError,
};

/** Fields every Error has, carried apart from `fields`. */
const BUILT_IN = new Set(['name', 'code', 'message', 'stack', 'cause']);

export function toWireError(error: unknown): WireError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error), fields: {} };
  const fields: Record<string, unknown> = {};
  for (const key of Object.keys(error)) if (!BUILT_IN.has(key)) fields[key] = portable((error as unknown as Record<string, unknown>)[key]);
  const cause = error.cause instanceof Error ? { name: error.cause.name, message: error.cause.message, stack: error.cause.stack } : undefined;
  const code = error instanceof D4Error ? error.code : undefined;
  return { name: error.name, ...(code ? { code } : {}), message: error.message, stack: error.stack, fields, ...(cause ? { cause } : {}) };
}

/** A value as it can cross: itself when the codec carries it, else its preview text. */
function portable(value: unknown): unknown {
  if (value === undefined || value === null || typeof value !== 'object') return typeof value === 'function' || typeof value === 'symbol' ? previewValue(String(value)) : value;
  try {
    encode(value);
    return value;
  } catch {
    return previewValue(value);
  }
}

/**
 * Rebuilds a worker's error in the driver as the same class with the same code, message,
 * fields and stack. `where` names the worker ("worker thread 2 (PE Identity3 instance 1)",
 * "worker L0 on host a") for errors that are not d4's own, which are bugs or library
 * failures and say where they happened.
 */
export function fromWireError(wire: WireError, where: string): D4Error {
  if (!isD4ErrorCode(wire.code)) {
    // No code, or one this copy of d4 does not know (a worker of another version).
    const code = wire.code ? ` (${wire.code})` : '';
    const error = new WorkerError(`${where} failed: ${wire.name}${code}: ${wire.message}`, 'D4_WORKER_FAILED');
    if (wire.stack) error.stack = `${error.name}: ${error.message}\n--- in the worker ---\n${wire.stack}`;
    return error;
  }
  const cls = CLASSES[wire.name] ?? D4Error;
  // Built without its constructor: constructors compose messages from their arguments,
  // and the message here is already composed.
  const error = Object.create(cls.prototype) as D4Error;
  const own = error as unknown as Record<string, unknown>;
  // A workflow that loads in the driver but not in a worker: say which worker.
  const message = cls === WorkflowLoadError ? `${where} could not rebuild the workflow: ${wire.message}` : wire.message;
  Object.defineProperty(error, 'message', { value: message, writable: true, configurable: true, enumerable: false });
  own.code = wire.code;
  own.name = wire.name;
  Object.assign(own, wire.fields);
  if (wire.cause) {
    const cause = new Error(wire.cause.message);
    cause.name = wire.cause.name;
    if (wire.cause.stack) cause.stack = wire.cause.stack;
    Object.defineProperty(error, 'cause', { value: cause, writable: true, configurable: true, enumerable: false });
  }
  Object.defineProperty(error, 'stack', { value: wire.stack ?? `${wire.name}: ${message}`, writable: true, configurable: true, enumerable: false });
  return error;
}
