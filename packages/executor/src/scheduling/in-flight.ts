/**
 * The tasks a worker holds, in the order it runs them. Its results come back in that order,
 * so taking the first one is the common case, and O(1) here with a moving head (an array's
 * `splice(0, 1)` moved every other entry, up to 512, for each result).
 */
export class InFlight<T extends { readonly future: { readonly id: number } }> {
  #items: (T | undefined)[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  /** The task the worker runs now (or next). */
  first(): T | undefined {
    return this.#items[this.#head];
  }

  /** Removes and returns the task with this future id; undefined when it is not held. */
  takeById(id: number): T | undefined {
    const items = this.#items;
    const first = items[this.#head];
    if (first !== undefined && first.future.id === id) {
      items[this.#head++] = undefined;
      this.#compact();
      return first;
    }
    for (let i = this.#head + 1; i < items.length; i++) {
      const item = items[i]!;
      if (item.future.id === id) {
        items.splice(i, 1);
        return item;
      }
    }
    return undefined;
  }

  /** Removes the task; false when it is not held. */
  remove(item: T): boolean {
    const items = this.#items;
    if (items[this.#head] === item) {
      items[this.#head++] = undefined;
      this.#compact();
      return true;
    }
    const at = items.indexOf(item, this.#head + 1);
    if (at < 0) return false;
    items.splice(at, 1);
    return true;
  }

  find(predicate: (item: T) => boolean): T | undefined {
    for (let i = this.#head; i < this.#items.length; i++) if (predicate(this.#items[i]!)) return this.#items[i];
    return undefined;
  }

  /** The tasks held, in order (a copy). */
  toArray(): T[] {
    return this.#items.slice(this.#head) as T[];
  }

  /** Empties it; returns what it held, in order. */
  drain(): T[] {
    const held = this.toArray();
    this.#items = [];
    this.#head = 0;
    return held;
  }

  #compact(): void {
    if (this.#head === this.#items.length) {
      this.#items.length = 0;
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }
}
