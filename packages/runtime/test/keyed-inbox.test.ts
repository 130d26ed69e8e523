import { describe, expect, it } from '@jest/globals';
import { KeyedInbox } from '../src/worker/keyed-inbox.js';

describe('KeyedInbox', () => {
  it('hands messages to their key, and keeps what came before the listener, in order', () => {
    const inbox = new KeyedInbox<string, number>();
    inbox.deliver('a', 1);
    inbox.deliver('b', 9);
    inbox.deliver('a', 2);
    const seen: number[] = [];
    inbox.on('a', (n) => seen.push(n));
    inbox.deliver('a', 3);
    expect(seen).toEqual([1, 2, 3]);
    const other: number[] = [];
    inbox.on('b', (n) => other.push(n));
    expect(other).toEqual([9]);
  });
});
