/**
 * Forwarding: a dependent task whose unanswered argument futures are all tasks sent to one
 * worker in the same dispatch goes to that worker too, queued behind them, and runs there from
 * their results (kept-results.ts). A hop along a chain then costs no trip through the executor.
 *
 * The executor stays the authority on every outcome: a forwarded task's future still waits
 * for its arguments' futures (dependency-wiring.ts) and completes from the worker's answer,
 * so an upstream failure or cancellation reaches it exactly as it would have. The worker only
 * runs it when every upstream result is there, and otherwise answers "skipped" (which the
 * executor ignores for a task already ended, and requeues otherwise).
 *
 * Only tasks that could have run on that worker anyway are forwarded: calls without options
 * (no resources or timeout of their own), futures only in arrays and plain objects (a worker
 * puts values at their paths), block allocation with thread or process workers (a fresh
 * worker per task holds no earlier result; the ranks of an srun/mpiexec worker each hold only
 * their own value), no result cache (its key needs the arguments' values).
 *
 * Bounds, so that forwarding never takes work from an idle worker: one forwarded dependent
 * per task (a fan-out's other dependents wait for the result here and spread over the workers
 * as any ready tasks do; forwarding them all would run them one after another on one worker),
 * and a worker holds at most about FORWARD_MS of measured work (forwardLimit: at least
 * FORWARD_MIN tasks, at most FORWARD_MAX). A chain cannot run in parallel anyway; the bound
 * keeps its worker open to other tasks between runs of it. It is larger than block dispatch's
 * queue (about 2 ms, at most 512 tasks) because each run of a chain begins with a round trip
 * through the caller, two thread wake-ups, which on a loaded machine can each wait for a core
 * far longer than the run takes; other tasks go to the least loaded worker meanwhile.
 */
import { isFuture, type Future } from '../future.js';
import { isPlainObject } from '../dependencies.js';
import { Task, type TaskHooks, type TaskLink } from '../task.js';

/** What forwarding looks at in a worker. */
export interface ForwardTarget {
  readonly inflight: { readonly length: number };
}

const NO_DEPS: readonly Future<unknown>[] = Object.freeze([]);
/** Tasks a worker may hold with forwarded ones even before its task time is measured (or when it is long). */
export const FORWARD_MIN = 16;
const FORWARD_MAX = 2048;
const FORWARD_MS = 8;

/** How many tasks a worker may hold with forwarded ones, from its measured time per task. */
export function forwardLimit(avgMs: number | undefined): number {
  if (avgMs === undefined) return FORWARD_MIN;
  return Math.max(FORWARD_MIN, Math.min(FORWARD_MAX, Math.floor(FORWARD_MS / Math.max(avgMs, 0.001))));
}
const MAX_DEPTH = 64; // as collectFutures

function linkOf(task: Task, deps: readonly Future<unknown>[] = NO_DEPS): TaskLink {
  return (task.link ??= { followers: undefined, deps, round: 0, keep: 0, wire: undefined, seq: 0 });
}

export class Forwarding {
  readonly #hooks: TaskHooks;
  /** The dispatch in progress; a result is kept only for dependents sent in the same one. */
  round = 0;
  /** Tasks forwarded so far. */
  count = 0;

  constructor(hooks: TaskHooks) {
    this.#hooks = hooks;
  }

  /**
   * At submit, for a call without options: a task waiting for futures of this executor's
   * tasks that are not sent yet becomes their follower, to be considered when they are.
   */
  register(task: Task, deps: readonly Future<unknown>[]): void {
    let owners: Task[] | undefined;
    for (const dep of deps) {
      if (dep.done()) continue;
      const owner = dep._owner;
      if (!(owner instanceof Task) || !owner.ownedBy(this.#hooks) || owner.phase === 'running' || owner.phase === 'forwarded') return;
      (owners ??= []).push(owner);
    }
    if (!owners || !(task.args.every(isFlat) || addressable(task.args, -1))) return;
    linkOf(task, deps);
    for (const owner of owners) (linkOf(owner).followers ??= []).push(task);
  }

  /**
   * `batch[from]` was just assigned to `slot`: forwards its first follower whose unanswered
   * arguments are all in this worker from this round (and then that one's), appending them to
   * `batch` through `take`, while the worker holds fewer than `limit` tasks.
   */
  behind<S extends ForwardTarget>(batch: Task[], from: number, slot: S, limit: number, take: (task: Task) => void): void {
    for (let i = from; i < batch.length; i++) {
      const link = batch[i].link;
      if (!link) continue;
      link.round = this.round;
      const followers = link.followers;
      if (!followers) continue;
      // Considered once: a follower not forwarded now waits for its arguments as any task does.
      link.followers = undefined;
      for (const follower of followers) {
        if (follower.phase !== 'waiting' || slot.inflight.length >= limit || !this.#allOn(follower.link!, slot)) continue;
        take(follower);
        follower.link!.wire = forwardedArgs(follower.args, (owner) => owner.link!.keep++);
        batch.push(follower);
        this.count++;
        break;
      }
    }
  }

  #allOn(link: TaskLink, slot: ForwardTarget): boolean {
    for (const dep of link.deps) {
      if (dep.done()) continue; // a value (a failed one would have ended the follower)
      const owner = dep._owner as Task | undefined;
      if (!owner || owner.slot !== slot || owner.link?.round !== this.round || (owner.phase !== 'running' && owner.phase !== 'forwarded')) return false;
    }
    return true;
  }
}

/**
 * Ended because an argument failed or was cancelled: then its worker skips it by itself (the
 * upstream's result is missing there), so nothing needs to be fenced off.
 */
export function endedByArgument(task: Task): boolean {
  const deps = task.link?.deps ?? NO_DEPS;
  for (const dep of deps) {
    const outcome = dep._valueIfDone();
    if (outcome && !outcome.ok) return true;
  }
  return false;
}

/** An argument that is a plain value or a future itself (the usual case: no walk). */
function isFlat(arg: unknown): boolean {
  return arg === null || typeof arg !== 'object' || isFuture(arg);
}

/** Futures only in arrays and plain objects (not in Maps, Sets), so each has a path. */
function addressable(value: unknown, depth: number): boolean {
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH || isFuture(value)) return true;
  if (Array.isArray(value)) return value.every((item) => addressable(item, depth + 1));
  if (value instanceof Map || value instanceof Set) return !containsFuture(value, depth + 1);
  if (isPlainObject(value)) {
    for (const key in value) if (!addressable(value[key], depth + 1)) return false;
  }
  return true;
}

function containsFuture(value: unknown, depth: number): boolean {
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) return false;
  if (isFuture(value)) return true;
  if (Array.isArray(value) || value instanceof Set) return [...value].some((item) => containsFuture(item, depth + 1));
  if (value instanceof Map) return [...value].some(([k, v]) => containsFuture(k, depth + 1) || containsFuture(v, depth + 1));
  if (isPlainObject(value)) return Object.values(value).some((item) => containsFuture(item, depth + 1));
  return false;
}

/**
 * The arguments of a forwarded task as sent: `[template, ...refs]` (protocol.ts, F_FORWARDED).
 * A finished future becomes its value; an unanswered one becomes null in the template and a
 * ref (its task id, its path: the argument's index, or the keys down to it), and `onRef` is
 * told its task, whose result the worker must then keep for one more read.
 */
export function forwardedArgs(args: readonly unknown[], onRef: (owner: Task) => void): unknown[] {
  const out: unknown[] = [undefined];
  // The usual case, futures given as arguments themselves: no walk.
  if (args.every(isFlat)) {
    const template = new Array<unknown>(args.length);
    for (let i = 0; i < args.length; i++) {
      const arg = args[i];
      template[i] = isFuture(arg) ? futureValue(arg, i, out, onRef) : arg;
    }
    out[0] = template;
    return out;
  }
  const path: (string | number)[] = [];
  const copy = (value: unknown, depth: number): unknown => {
    if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) return value;
    if (isFuture(value)) return futureValue(value, path.slice(), out, onRef);
    if (Array.isArray(value)) {
      const items = new Array<unknown>(value.length);
      for (let i = 0; i < value.length; i++) {
        path.push(i);
        items[i] = copy(value[i], depth + 1);
        path.pop();
      }
      return items;
    }
    if (isPlainObject(value)) {
      const fields: Record<string, unknown> = {};
      for (const key in value) {
        path.push(key);
        fields[key] = copy(value[key], depth + 1);
        path.pop();
      }
      return fields;
    }
    return value; // Maps and Sets hold no futures here (addressable), Dates, buffers…: as they are
  };
  out[0] = copy(args, -1); // -1: the arguments themselves are at depth 0, as in collectFutures
  return out;
}

/** A future's value when it is done; otherwise a ref in `out`, and null in the template. */
function futureValue(future: Future<unknown>, path: number | (string | number)[], out: unknown[], onRef: (owner: Task) => void): unknown {
  const outcome = future._valueIfDone();
  if (outcome) return outcome.ok ? outcome.value : undefined;
  out.push(future.id, path);
  onRef(future._owner as Task);
  return null;
}
