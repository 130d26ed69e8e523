import { CURRENT, currentPECall } from './engine.js';
import { PEError, WorkerError, type D4Error } from './errors.js';

/** A PE call in progress: its PE id, phase and (in process()) its item. */
export type PECall = NonNullable<ReturnType<typeof currentPECall>>;

/**
 * Wraps process.exit so that a call from a PE (d4 itself keeps the real one) is reported
 * before the process or thread ends: `report` gets the exit code and the PE call in progress,
 * if any, and must report synchronously (the process ends right after it returns). A PE that
 * ends its process otherwise leaves nothing to say who did it: a worker "died", or d4 exited
 * with no output at all. Returns the real process.exit, for d4's own code, and a restore
 * function.
 */
export function guardProcessExit(report: (code: number, call: PECall | undefined) => void): { exit: typeof process.exit; restore: () => void } {
  const real = process.exit;
  const exit = real.bind(process) as typeof process.exit;
  const guarded = ((code?: number | string | null) => {
    const call = currentPECall();
    process.exit = real;
    const status = code === undefined || code === null ? Number(process.exitCode ?? 0) : Number(code);
    try {
      report(Number.isInteger(status) ? status : 1, call);
    } catch {
      // Reporting is best effort: the PE asked to end the process, and it ends.
    }
    return real.call(process, code as number);
  }) as typeof process.exit;
  process.exit = guarded;
  // From now on, engines in this thread keep the call in progress (see CURRENT).
  CURRENT.tracked = true;
  return {
    exit,
    restore: () => {
      if (process.exit === guarded) process.exit = real;
    },
  };
}

/**
 * The error for a PE that called process.exit(): a PEError (PE id, item) whose message says
 * what happened and what to do instead; `where` names what ended ("worker L2's process (pid
 * 123)"). Outside any PE call (a PE's timer or callback), D4_PE_EXIT without a PE.
 */
export function peExitError(code: number, call: PECall | undefined, where: string): D4Error {
  const what = `called process.exit(${code}), which ended ${where}; a PE must not end its process: throw an error instead (the run then fails naming the PE and the item)`;
  if (!call) return new WorkerError(`a PE ${what}. It was called outside any PE call (from a timer or a callback?), so which PE is not known`, 'D4_PE_EXIT');
  return new PEError(call.peId, call.phase, call.item, new Error(what));
}
