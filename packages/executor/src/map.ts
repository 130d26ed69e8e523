import { OptionError } from '@d4/core';
import type { Future } from './future.js';

export interface MapOptions {
  /** Items per task (each task runs the function over a chunk). Default 1. */
  chunksize?: number;
  /** Yield in input order (default) or as tasks complete. */
  ordered?: boolean;
  /** Most chunks submitted and not yet consumed; bounds memory on an endless source. Default 2 × maxWorkers. */
  inFlight?: number;
  /** Per-task timeout in ms. */
  timeout?: number;
}

export interface MapSubmitter {
  submitOne(args: unknown[]): Future<unknown>;
  submitChunk(argLists: unknown[][]): Future<unknown[]>;
  defaultInFlight: number;
}

type AnyIterator = Iterator<unknown> | AsyncIterator<unknown>;

/**
 * The engine of Executor.map. A pump pulls argument tuples from the sources and submits
 * chunks while fewer than `inFlight` are outstanding; the consumer yields results as they
 * become available. Both wake each other through one signal, so a slow source does not delay
 * yielding finished results, and a slow consumer stops the pump (bounded memory).
 * On an error or an early `break`, outstanding tasks are cancelled and the sources closed.
 */
export function mapTasks(submitter: MapSubmitter, sources: (Iterable<unknown> | AsyncIterable<unknown>)[], options: MapOptions): AsyncGenerator<unknown, void, undefined> {
  // Options are checked here, at the call, not at the first next().
  const chunksize = wholeNumber(options.chunksize ?? 1, 'chunksize');
  const inFlight = wholeNumber(options.inFlight ?? Math.max(1, submitter.defaultInFlight), 'inFlight');
  return run(submitter, sources, chunksize, inFlight, options.ordered ?? true);
}

async function* run(submitter: MapSubmitter, sources: (Iterable<unknown> | AsyncIterable<unknown>)[], chunksize: number, inFlight: number, ordered: boolean): AsyncGenerator<unknown, void, undefined> {
  const iterators: AnyIterator[] = sources.map((s) => (Symbol.asyncIterator in s ? (s as AsyncIterable<unknown>)[Symbol.asyncIterator]() : (s as Iterable<unknown>)[Symbol.iterator]()));

  const window: Future<unknown>[] = [];
  const completed: Future<unknown>[] = [];
  let pumpDone = false;
  let pumpError: { error: unknown } | undefined;
  let stopped = false;
  let wake: (() => void) | undefined;
  let roomWake: (() => void) | undefined;
  const signal = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };

  const allSync = iterators.every((it, i) => !(Symbol.asyncIterator in sources[i]));
  // Sync sources are pulled without awaiting, so a refill of many items is submitted in one
  // tick and leaves for the workers in one message.
  const pullSync = (): unknown[] | undefined => {
    const tuple: unknown[] = [];
    for (const it of iterators as Iterator<unknown>[]) {
      const step = it.next();
      if (step.done) return undefined;
      tuple.push(step.value);
    }
    return tuple;
  };
  const pullAsync = async (): Promise<unknown[] | undefined> => {
    const tuple: unknown[] = [];
    for (const it of iterators) {
      const step = await it.next();
      if (step.done) return undefined;
      tuple.push(step.value);
    }
    return tuple;
  };
  // Refill when the window is down to half: submissions come in bursts, not one by one.
  const lowWater = Math.floor(inFlight / 2);

  const pump = async () => {
    try {
      while (!stopped) {
        if (window.length >= inFlight) {
          await new Promise<void>((r) => (roomWake = r));
          continue;
        }
        const chunk: unknown[][] = [];
        while (chunk.length < chunksize) {
          const tuple = allSync ? pullSync() : await pullAsync();
          if (tuple === undefined) break;
          chunk.push(tuple);
          if (stopped) break;
        }
        if (stopped) break;
        if (chunk.length > 0) {
          const future = chunksize === 1 ? submitter.submitOne(chunk[0]) : (submitter.submitChunk(chunk) as unknown as Future<unknown>);
          window.push(future);
          if (!ordered) future.addDoneCallback((f) => (completed.push(f), signal()));
          else future.addDoneCallback(signal);
          signal();
        }
        if (chunk.length < chunksize) break;
      }
    } catch (error) {
      pumpError = { error };
    } finally {
      pumpDone = true;
      signal();
    }
  };
  void pump();

  try {
    for (;;) {
      let next: Future<unknown> | undefined;
      if (ordered) {
        if (window.length > 0 && window[0].done()) next = window.shift();
      } else if (completed.length > 0) {
        next = completed.shift()!;
        window.splice(window.indexOf(next), 1);
      }
      if (next) {
        if (window.length <= lowWater) {
          const r = roomWake;
          roomWake = undefined;
          r?.();
        }
        const outcome = next._valueIfDone()!;
        if (!outcome.ok) throw outcome.error;
        if (chunksize === 1) yield outcome.value;
        else for (const value of outcome.value as unknown[]) yield value;
        continue;
      }
      if (window.length === 0 && pumpDone) {
        if (pumpError) throw pumpError.error;
        return;
      }
      await new Promise<void>((r) => (wake = r));
    }
  } finally {
    stopped = true;
    roomWake?.();
    for (const f of window) f.cancel();
    for (const it of iterators) {
      try {
        const closing = it.return?.();
        if (closing && typeof (closing as Promise<unknown>).then === 'function') (closing as Promise<unknown>).then(undefined, () => undefined);
      } catch {
        // a source that fails to close must not hide the real outcome
      }
    }
  }
}

function wholeNumber(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) throw new OptionError(`map(): ${name} must be a whole number ≥ 1, got ${String(value)}`, 'D4_EXECUTOR_OPTION');
  return value;
}
