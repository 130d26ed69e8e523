import { CURRENT, PEExitRequest, peCallUnderWay, type PECall } from './pe-calls.js';
import { PEError, WorkerError, type D4Error } from './errors.js';

export type { PECall };

/**
 * Wraps process.exit so that a call from a PE (d4 itself keeps the real one) is reported
 * before the process or thread ends: `report` gets the exit code and the PE call in progress,
 * if any, and must report synchronously (the process ends right after it returns). A PE that
 * ends its process otherwise leaves nothing to say who did it: a worker "died", or d4 exited
 * with no output at all. Returns the real process.exit, for d4's own code, and a restore
 * function.
 *
 * How the PE and its item are known: while a PE call is under way in this thread, the guarded
 * process.exit throws a PEExitRequest, which unwinds to the engine's catch of that call; the
 * engine hands the PE and the item to the handler below, which reports them and ends the
 * process. (A PE that catches every error around its process.exit() call keeps running.)
 * Outside any call (a timer, a callback), it reports without a PE and ends the process.
 */
export function guardProcessExit(report: (code: number, call: PECall | undefined) => void): { exit: typeof process.exit; restore: () => void } {
  const real = process.exit;
  const exit = real.bind(process) as typeof process.exit;
  const end = (status: number, call: PECall | undefined): never => {
    process.exit = real;
    if (CURRENT.onExit === onExit) CURRENT.onExit = undefined;
    try {
      report(status, call);
    } catch {
      // Reporting is best effort: the PE asked to end the process, and it ends.
    }
    return real.call(process, status);
  };
  const onExit = (status: number, call: PECall): never => end(status, call);
  const guarded = ((code?: number | string | null) => {
    const asked = code === undefined || code === null ? Number(process.exitCode ?? 0) : Number(code);
    const status = Number.isInteger(asked) ? asked : 1;
    if (CURRENT.onExit === onExit && peCallUnderWay()) throw new PEExitRequest(status);
    return end(status, undefined);
  }) as typeof process.exit;
  process.exit = guarded;
  CURRENT.onExit = onExit;
  return {
    exit,
    restore: () => {
      if (process.exit === guarded) process.exit = real;
      if (CURRENT.onExit === onExit) CURRENT.onExit = undefined;
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
