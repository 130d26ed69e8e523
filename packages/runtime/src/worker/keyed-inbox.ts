/**
 * Messages handed to whoever listens on their key (a link, a source and tag), for transports
 * that receive everything on one socket or one receive loop. A message that arrives before
 * its listener (a peer's first batch while this worker still loads the workflow) is kept,
 * and the listener gets those first, in order.
 */
export class KeyedInbox<K, V> {
  private readonly listeners = new Map<K, (value: V) => void>();
  private readonly early = new Map<K, V[]>();

  /** Listens on `key`, first to what came early. */
  on(key: K, listener: (value: V) => void): void {
    this.listeners.set(key, listener);
    const queued = this.early.get(key);
    if (!queued) return;
    this.early.delete(key);
    for (const value of queued) listener(value);
  }

  deliver(key: K, value: V): void {
    const listener = this.listeners.get(key);
    if (listener) {
      listener(value);
      return;
    }
    const queued = this.early.get(key);
    if (queued) queued.push(value);
    else this.early.set(key, [value]);
  }
}
