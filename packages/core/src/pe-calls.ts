/**
 * Which PE call is under way in this thread, for the process.exit guard (exit-guard.ts): the
 * engine marks its calls here as cheaply as it can, and the guard asks only when a PE exits.
 */
import type { PEInputs } from './pe.js';

/** A PE call: its PE id, phase and (in process()) its item. */
export interface PECall {
  peId: string;
  phase: 'process' | 'preprocess' | 'postprocess';
  item: PEInputs | undefined;
}

/**
 * An exit a PE asked for inside its call: a guarded process.exit (exit-guard.ts) throws it
 * while a call is under way in this thread (peCallUnderWay), and the engine, which knows the
 * call's PE and item, hands both to the guard, which reports them and ends the process. So
 * nothing is stored per synchronous call: keeping each call's inputs where a guard could read
 * them cost a pass-through PE ~20% of its time, and even a count of calls under way, kept up
 * at every call, cost pipeline_test on simple ~6.7% more instructions per item.
 */
export class PEExitRequest extends Error {
  constructor(readonly exitCode: number) {
    super(`process.exit(${exitCode}) inside a PE call`);
  }
}

/**
 * `depth`: lifecycle calls (preprocess, postprocess) and async process() calls under way in
 * this thread (any engine; an async call counts from its first await until it settles).
 * A synchronous process() call is not counted: it is found on the stack when asked
 * (peCallUnderWay). `onExit`: the guard's handler, which reports and ends the process
 * (never returns).
 */
export const CURRENT: { depth: number; onExit: ((code: number, call: PECall) => never) | undefined } = { depth: 0, onExit: undefined };

/** The engine's method that makes a process() call: its frame on the stack marks a sync call. */
const PROCESS_CALL_FRAME = 'runProcessCall';
/** The same frame in a stack formatted as text. */
const PROCESS_CALL_TEXT = new RegExp(`\\b${PROCESS_CALL_FRAME}\\b`);

/**
 * Whether a PE call is under way in this thread: counted (lifecycle, async) or a synchronous
 * process() call below us on the stack. Reads the whole stack, so it is for rare events only
 * (a process.exit), never per item.
 */
export function peCallUnderWay(): boolean {
  if (CURRENT.depth > 0) return true;
  const prepare = Error.prepareStackTrace;
  const limit = Error.stackTraceLimit;
  const holder: { stack?: unknown } = {};
  Error.prepareStackTrace = (_error, sites) => sites;
  Error.stackTraceLimit = Infinity;
  try {
    Error.captureStackTrace(holder, peCallUnderWay);
  } finally {
    Error.prepareStackTrace = prepare;
    Error.stackTraceLimit = limit;
  }
  const stack = holder.stack;
  if (Array.isArray(stack)) return (stack as NodeJS.CallSite[]).some((site) => site.getFunctionName() === PROCESS_CALL_FRAME);
  // In a vm context (jest's, for one) V8 formats the stack with that context's hook: text.
  return typeof stack === 'string' && PROCESS_CALL_TEXT.test(stack);
}


/**
 * A caught error of a PE call: when it is a guarded process.exit, the process ends here,
 * reported. Returns the error the call failed with (what a stand-in for process.exit threw,
 * in tests, where the process does not end).
 */
export function exitIfAsked(error: unknown, peId: string, phase: PECall['phase'], item: PEInputs | undefined): unknown {
  if (!(error instanceof PEExitRequest) || !CURRENT.onExit) return error;
  try {
    CURRENT.onExit(error.exitCode, { peId, phase, item });
  } catch (thrown) {
    return thrown;
  }
  return error;
}
