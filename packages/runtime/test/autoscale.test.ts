import { describe, expect, it } from '@jest/globals';
import { ScalingRecord, idleTimeRule, initialActiveWorkers, queueLengthRule } from '../src/index.js';

describe('the queue-length rule (dyn_auto_multi)', () => {
  const limits = { threshold: 256, max: 4 };
  const at = (active: number, lastQueued = 0) => ({ active, lastQueued });
  const seen = (queued: number, running = 0, idleActive = 0) => ({ queued, running, idleActive });

  it("grows while the queue is above the threshold and not shrinking (dispel4py's rule), up to the pool", () => {
    expect(queueLengthRule(at(2, 280), seen(300, 0, 1), limits).active).toBe(3);
    expect(queueLengthRule(at(4, 280), seen(300), limits).active).toBe(4);
    let state = at(1);
    const grown: number[] = [];
    for (const queued of [500, 600, 600, 700, 800]) {
      state = queueLengthRule(state, seen(queued, 0, 1), limits);
      grown.push(state.active);
    }
    expect(grown).toEqual([2, 3, 4, 4, 4]);
  });

  it('grows below the threshold while tasks wait and every active worker is busy', () => {
    expect(queueLengthRule(at(2, 50), seen(10), limits).active).toBe(3);
    // Nothing queued, but a running batch of many tasks that a new worker can take part of.
    expect(queueLengthRule(at(2), seen(0, 200), limits).active).toBe(3);
  });

  it('keeps its workers while tasks wait, even below the threshold and with the queue shrinking', () => {
    expect(queueLengthRule(at(2, 50), seen(10, 0, 1), limits).active).toBe(2);
    expect(queueLengthRule(at(2), seen(0, 200, 1), limits).active).toBe(2);
    expect(queueLengthRule(at(2), seen(0, 2), limits).active).toBe(2);
  });

  it('shrinks only when nothing waits and an active worker has nothing to do, never below 1', () => {
    expect(queueLengthRule(at(2), seen(0, 1, 1), limits).active).toBe(1);
    expect(queueLengthRule(at(1), seen(0, 0, 1), limits).active).toBe(1);
  });

  it('remembers the queue length for the next tick', () => {
    expect(queueLengthRule(at(2, 0), seen(42), limits).lastQueued).toBe(42);
  });

  it('starts with half the pool, rounded up', () => {
    expect([1, 2, 3, 4, 7].map(initialActiveWorkers)).toEqual([1, 1, 2, 2, 4]);
  });
});

describe("the idle-time rule (dyn_auto_redis, dispel4py's)", () => {
  const limits = { idleThreshold: 1000, max: 3 };

  it('pauses one active worker while one of them idles longer than the threshold', () => {
    expect(idleTimeRule(3, [{ rank: 0, idleMs: 0 }, { rank: 1, idleMs: 1500 }, { rank: 2, idleMs: 0 }], limits)).toBe(2);
    expect(idleTimeRule(1, [{ rank: 0, idleMs: 5000 }], limits)).toBe(1);
  });

  it('ignores paused workers (rank at or above the active count) and grows while every active one works', () => {
    expect(idleTimeRule(1, [{ rank: 0, idleMs: 10 }, { rank: 1, idleMs: 9000 }, { rank: 2, idleMs: 9000 }], limits)).toBe(2);
    expect(idleTimeRule(3, [{ rank: 0, idleMs: 999 }, { rank: 1, idleMs: 0 }, { rank: 2, idleMs: 0 }], limits)).toBe(3);
  });

  it('grows when no active worker is alive to report', () => {
    expect(idleTimeRule(1, [], limits)).toBe(2);
  });
});

describe('the scaling record', () => {
  it('keeps the changes with their time on the run clock, and the time-weighted mean', () => {
    let now = 5000;
    const record = new ScalingRecord(2, () => now, { withQueue: true, startedAt: 4900 });
    now += 100;
    record.note(3, { queued: 40, running: 7 });
    now += 50;
    record.note(3, { queued: 45, running: 7 }); // no change: not recorded
    now += 150;
    record.note(1, { queued: 0, running: 0 });
    expect(record.samples).toEqual([
      { atMs: 0, active: 2, queued: 0, running: 0 },
      { atMs: 200, active: 3, queued: 40, running: 7 },
      { atMs: 400, active: 1, queued: 0, running: 0 },
    ]);
    expect(record.changes).toBe(2);
    // 2 for 200 ms, 3 for 200 ms, 1 for 100 ms.
    expect(record.mean(500)).toBe((2 * 200 + 3 * 200 + 1 * 100) / 500);
  });

  it('stops recording at its cap but still counts the changes (constant memory on long runs)', () => {
    let now = 0;
    const record = new ScalingRecord(1, () => now, { cap: 3 });
    for (let i = 0; i < 100; i++) {
      now += 10;
      record.note(i % 2 === 0 ? 2 : 1);
    }
    expect(record.samples).toHaveLength(3);
    expect(record.changes).toBe(100);
  });
});
