import { describe, expect, it } from '@jest/globals';
import { FlushClock } from '../src/index.js';

describe('FlushClock', () => {
  it('after fast items, readNext() makes the next check read the clock (a slow PE is not held for up to 256 items)', () => {
    const clock = new FlushClock(2);
    const notYet = performance.now() + 1e9; // buffered "in the future": never due while warming up
    let dueWhileWarming = 0;
    for (let i = 0; i < 10_000; i++) if (clock.due(notYet)) dueWhileWarming++;
    expect(dueWhileWarming).toBe(0);
    clock.readNext();
    expect(clock.due(performance.now() - 1000)).toBe(true);
  });

  it('reads the clock at the first check, and nothing buffered is never due', () => {
    const clock = new FlushClock(2);
    expect(clock.due(0)).toBe(false);
    expect(clock.due(performance.now() - 1000)).toBe(true);
  });
});
