import { CodecError, D4Error, InputError, PEError, WorkerError, WorkflowLoadError, GraphError, previewValue, isD4ErrorCode } from '@d4/core';

/** An error as it crosses from a worker to the driver (structured-clone safe). */
export interface WireError {
  name: string;
  code?: string;
  message: string;
  stack?: string;
  /** Set for PEError. */
  pe?: { peId: string; phase: 'process' | 'preprocess' | 'postprocess'; item: unknown; innerMessage: string; innerStack?: string };
}

export function toWireError(error: unknown): WireError {
  if (error instanceof PEError) {
    const cause = error.cause instanceof Error ? error.cause : new Error(String(error.cause));
    return {
      name: error.name,
      code: error.code,
      message: error.message,
      stack: error.stack,
      pe: { peId: error.peId, phase: error.phase ?? 'process', item: cloneable(error.item), innerMessage: cause.message, innerStack: error.peStack },
    };
  }
  if (error instanceof D4Error) return { name: error.name, code: error.code, message: error.message, stack: error.stack };
  if (error instanceof Error) return { name: error.name, message: error.message, stack: error.stack };
  return { name: 'Error', message: String(error) };
}

/** The item of a failed call, as a clone when it can cross, else as its preview text. */
function cloneable(item: unknown): unknown {
  try {
    return structuredClone(item);
  } catch {
    return previewValue(item);
  }
}

/** Rebuilds a worker's error in the driver as the same d4 error class and code. */
export function fromWireError(wire: WireError, where: string): D4Error {
  if (wire.pe) {
    const inner = new Error(wire.pe.innerMessage);
    if (wire.pe.innerStack) inner.stack = wire.pe.innerStack;
    return new PEError(wire.pe.peId, wire.pe.phase, wire.pe.item, inner);
  }
  if (isD4ErrorCode(wire.code)) {
    let error: D4Error;
    switch (wire.name) {
      case 'CodecError':
        error = new CodecError(wire.message);
        break;
      case 'InputError':
        error = new InputError(wire.message, wire.code);
        break;
      case 'WorkflowLoadError':
        error = new WorkflowLoadError(`${where} could not rebuild the workflow: ${wire.message}`, wire.code);
        break;
      case 'GraphError':
        error = new GraphError(wire.message, wire.code);
        break;
      case 'WorkerError':
        error = new WorkerError(wire.message, wire.code);
        break;
      default:
        error = new D4Error(wire.code, wire.message);
        error.name = wire.name;
    }
    if (wire.stack) error.stack = wire.stack;
    return error;
  }
  // No code, or one this copy of d4 does not know (a worker of another version).
  const code = wire.code ? ` (${wire.code})` : '';
  const error = new WorkerError(`${where} failed: ${wire.name}${code}: ${wire.message}`, 'D4_WORKER_FAILED');
  if (wire.stack) error.stack = `${error.name}: ${error.message}\n--- in the worker ---\n${wire.stack}`;
  return error;
}
