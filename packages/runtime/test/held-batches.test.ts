import { describe, expect, it } from '@jest/globals';
import { HeldBatches } from '../src/index.js';

describe('HeldBatches (what dyn_* workers hold, for dispatch and the autoscaler)', () => {
  it('counts as waiting only the tasks behind each worker’s running batch', () => {
    const held = new HeldBatches([0, 1]); // worker 0 on thread 0, worker 1 on thread 1
    expect(held.none()).toBe(true);
    held.give(0, 256); // runs at once
    expect(held.waitingTasks).toBe(0);
    held.give(0, 100); // waits behind it
    held.give(1, 50);
    held.give(1, 30);
    expect(held.waitingTasks).toBe(130);
    expect([held.count(0), held.count(1)]).toEqual([2, 2]);
    held.done(0); // the 100 start
    expect(held.waitingTasks).toBe(30);
    held.done(1);
    held.done(1);
    expect(held.waitingTasks).toBe(0);
    expect([held.count(0), held.count(1)]).toEqual([1, 0]);
    expect(held.none()).toBe(false);
    held.done(0);
    expect(held.none()).toBe(true);
  });

  it('totals the batches of the workers each thread hosts', () => {
    const held = new HeldBatches([0, 1, 0, 1]);
    held.give(0, 10);
    held.give(2, 10);
    held.give(3, 10);
    expect([held.inHost(0), held.inHost(1)]).toEqual([2, 1]);
    held.done(2);
    expect([held.inHost(0), held.inHost(1)]).toEqual([1, 1]);
  });
});
