import { decode, encode } from '@d4/core';
import { RESULT_FIELDS, W_INIT_FAILED, W_RESULTS, W_STARTED, type ErrorInfo } from '../protocol.js';

/**
 * The answers of a worker made of several MPI ranks, made into the answers of one worker:
 * every rank runs every task, and a task's result is the list of the ranks' results in rank
 * order. A rank that throws fails the task with its rank and stack at once (the others may be
 * stuck waiting for it in a collective), and the worker is then retired: stopped and replaced.
 */
export class RankResults {
  readonly #size: number;
  readonly #emit: (bytes: Uint8Array) => void;
  readonly #retire: (why: string) => void;
  /** Per task id: each rank's value, filled as they arrive. */
  readonly #partial = new Map<number, { values: unknown[]; answered: number }>();
  #failed = false;

  constructor(size: number, emit: (bytes: Uint8Array) => void, retire: (why: string) => void) {
    this.#size = size;
    this.#emit = emit;
    this.#retire = retire;
  }

  /** A message of rank `rank`, as the worker sent it. */
  push(rank: number, raw: Uint8Array): void {
    if (this.#failed) return;
    if (this.#size === 1) return this.#emit(raw);
    const message = decode<unknown[]>(raw);
    if (message[0] === W_STARTED) {
      if (rank === 0) this.#emit(raw);
    } else if (message[0] === W_INIT_FAILED) {
      this.#failed = true;
      this.#emit(encode([W_INIT_FAILED, onRank(message[1] as ErrorInfo, rank, this.#size)]));
    } else if (message[0] === W_RESULTS) {
      const batch = message[1] as unknown[];
      const done: unknown[] = [];
      let failure: string | undefined;
      for (let at = 0; at < batch.length; at += RESULT_FIELDS) {
        const id = batch[at] as number;
        const value = batch[at + 2];
        let entry = this.#partial.get(id);
        if (!entry) this.#partial.set(id, (entry = { values: new Array(this.#size), answered: 0 }));
        if (batch[at + 1] !== 1) {
          this.#partial.delete(id);
          done.push(id, 0, onRank(value as ErrorInfo, rank, this.#size));
          failure = `rank ${rank} of ${this.#size} failed task #${id}`;
          break;
        }
        entry.values[rank] = value;
        if (++entry.answered === this.#size) {
          this.#partial.delete(id);
          done.push(id, 1, entry.values);
        }
      }
      if (done.length > 0) this.#emit(encode([W_RESULTS, done, ((message[2] as number) * done.length) / Math.max(1, batch.length)]));
      if (failure) {
        this.#failed = true;
        this.#retire(failure);
      }
    }
  }
}

function onRank(info: ErrorInfo, rank: number, size: number): ErrorInfo {
  return { ...info, message: `rank ${rank} of ${size}: ${info.message}` };
}
