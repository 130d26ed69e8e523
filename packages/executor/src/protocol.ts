/**
 * Messages between the executor and its workers. Every message is one msgpack buffer
 * (core's codec) holding an array; tasks and results travel in batches so that a burst of
 * small tasks costs one message per batch, not one per task.
 */

/** parent → worker: `[M_INIT, workerId, initSpec | null]` */
export const M_INIT = 0;
/**
 * parent → worker: `[M_TASKS, defs: [fnKey, FnSpec][], tasks]`, where `tasks` is flat: four
 * entries per task, `taskId, fnKey, args, flags` (args: the list of arguments, or with F_ONE the only one) (no array per task to build and to decode).
 */
export const M_TASKS = 1;

/**
 * worker → parent: `[W_RESULTS, results, execMs]`, `results` flat: three entries per task,
 * `taskId, outcome, value | ErrorInfo | null` with outcome R_OK, R_FAILED or R_SKIPPED.
 */
export const W_RESULTS = 0;
/** worker → parent: `[W_STARTED, taskId]`, sent only for tasks with a timeout */
export const W_STARTED = 1;
/** worker → parent: `[W_INIT_FAILED, ErrorInfo]` */
export const W_INIT_FAILED = 2;

/** Task flags. */
export const F_CHUNK = 1; // args is a list of argument lists; the result is the list of results
export const F_TIMED = 2; // report W_STARTED so the parent can start the timeout clock
/**
 * A forwarded task (see scheduling/forwarding.ts): its args field is `[template, ...refs]`,
 * refs flat as `upstreamTaskId, path` pairs, a path being an argument's index or, for a future
 * nested in arrays and plain objects, the list of keys to it. The worker puts a copy of each
 * upstream's kept result at its path in the template; when one is missing (the upstream
 * failed, was skipped or its value cannot be encoded) it does not run the task and answers
 * R_SKIPPED. (Flat, so that a hop adds one small array to the message, not three.)
 */
export const F_FORWARDED = 4;
/** A task the executor could not encode: a placeholder that keeps the worker's count of tasks (and releases its refs); never run, never answered. */
export const F_DROP = 8;
/** The args field is the call's only argument itself, not a list of one (no array per task to encode, decode and keep alive). */
export const F_ONE = 16;
/** flags >>> KEEP_SHIFT: how many refs of later forwarded tasks will read this task's result; the worker keeps it until they have. */
export const KEEP_SHIFT = 8;

/** Outcomes in W_RESULTS. R_SKIPPED: a forwarded task that was not run (upstream missing, or fenced off by a cancel). */
export const R_FAILED = 0;
export const R_OK = 1;
export const R_SKIPPED = 2;

/** How a function reaches a worker. */
export type FnSpec = { k: 'ref'; module: string; exportName: string } | { k: 'src'; source: string; name: string; at?: SourceSite };

/**
 * Where a function sent by source was written (1-based), so that the worker compiles it as
 * that file at that line and its stack frames point there. `exact`: the source is the
 * file's own text (plain JavaScript), so its column and every later line match too.
 */
export interface SourceSite {
  file: string;
  line: number;
  column: number;
  exact: boolean;
}

/**
 * The line at which a worker puts the first line of a function sent by source: its own line
 * in the file, past the three lines of the wrapper (`new Function`'s two and the `with`), so
 * a function written on lines 1–3 starts at line 4.
 */
export function placedLine(at: SourceSite): number {
  return Math.max(4, at.line);
}

/** Entries per task in an M_TASKS message, and per result in a W_RESULTS message. */
export const TASK_FIELDS = 4;
export const RESULT_FIELDS = 3;

/** An error as it crosses back from a worker. `d4` marks the executor's own errors (not the task's). */
export interface ErrorInfo {
  name: string;
  message: string;
  stack?: string;
  code?: string;
  d4?: boolean;
  /** Set on W_INIT_FAILED when the worker itself could not start (not the user's init). */
  startup?: boolean;
}
