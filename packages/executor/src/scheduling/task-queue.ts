/**
 * The tasks waiting for a worker, in order. An array with a moving head, so that taking from
 * the front and putting a requeued task back at the front are O(1) in the usual case; items
 * that finished while queued (cancelled, failed upstream) stay until they are reached and are
 * skipped by the callers through `isDone`.
 */
export class TaskQueue<T> {
  #items: T[] = [];
  #head = 0;
  readonly #isDone: (item: T) => boolean;

  constructor(isDone: (item: T) => boolean) {
    this.#isDone = isDone;
  }

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  /** Puts an item back at the front (a task whose worker went away runs next). */
  pushFront(item: T): void {
    if (this.#head > 0) this.#items[--this.#head] = item;
    else this.#items.unshift(item);
  }

  /** The first item that is not done, dropping the done ones before it; undefined when none is left. */
  peek(): T | undefined {
    while (this.#head < this.#items.length) {
      const item = this.#items[this.#head];
      if (!this.#isDone(item)) return item;
      this.#head++;
    }
    return undefined;
  }

  /** Removes the item `peek` returned. */
  shift(): void {
    this.#head++;
  }

  /** Frees the space before the head once it is large, or everything once the queue is empty. */
  compact(): void {
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head > 4096 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }

  /**
   * Offers every item that is not done to `take`, in order, and keeps those it refuses
   * (returns false for). Done items are dropped.
   */
  takeWhere(take: (item: T) => boolean): void {
    const items = this.#items;
    let kept = 0;
    for (let i = this.#head; i < items.length; i++) {
      const item = items[i];
      if (this.#isDone(item)) continue;
      if (!take(item)) items[kept++] = item;
    }
    items.length = kept;
    this.#head = 0;
  }

  /** The items that are not done, in order. */
  pending(): T[] {
    const out: T[] = [];
    for (let i = this.#head; i < this.#items.length; i++) if (!this.#isDone(this.#items[i])) out.push(this.#items[i]);
    return out;
  }
}
