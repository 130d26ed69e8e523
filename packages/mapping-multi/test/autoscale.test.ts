import { describe, expect, it } from '@jest/globals';
import { nextActive, type ScaleInputs } from '../src/autoscale.js';
import { mappings } from '../src/index.js';
import { workflow } from './helpers.js';

const base: ScaleInputs = { queued: 0, running: 0, lastQueued: 0, idleActive: 0, active: 2, size: 4, threshold: 256 };

describe('dyn_auto_multi: the scaling rule', () => {
  it("grows while the queue is above the threshold and not shrinking (dispel4py's rule)", () => {
    expect(nextActive({ ...base, queued: 300, lastQueued: 280, idleActive: 1 })).toBe(3);
    expect(nextActive({ ...base, queued: 300, lastQueued: 280, active: 4 })).toBe(4);
  });

  it('grows below the threshold while tasks wait and every active copy is busy', () => {
    expect(nextActive({ ...base, queued: 10, lastQueued: 50 })).toBe(3);
    // Nothing queued, but a running batch of many tasks that a new copy can take part of.
    expect(nextActive({ ...base, running: 200 })).toBe(3);
  });

  it('keeps its copies while tasks wait, even below the threshold and with the queue shrinking', () => {
    expect(nextActive({ ...base, queued: 10, lastQueued: 50, idleActive: 1 })).toBe(2);
    expect(nextActive({ ...base, running: 200, idleActive: 1 })).toBe(2);
    expect(nextActive({ ...base, running: 2 })).toBe(2);
  });

  it('shrinks only when nothing waits and an active copy has nothing to do, never below 1', () => {
    expect(nextActive({ ...base, idleActive: 1, running: 1 })).toBe(1);
    expect(nextActive({ ...base, idleActive: 1, active: 1 })).toBe(1);
  });
});

describe('dyn_auto_multi: a CPU-bound job whose queue stays below the threshold', () => {
  it('gets every copy active while most of its work is left, and never drops one while tasks wait', async () => {
    const items = 200; // fewer tasks than the threshold (256): dispel4py's rule never grew here
    const result = await mappings.dyn_auto_multi.run(await workflow('fastIntoSlow', { size: 8, spinMicros: 3000 }), { '*': items }, { numProcesses: 4, collect: 'count' });
    expect(result.stats.pes.Slow1.calls).toBe(items);
    const samples = result.stats.activeWorkers as Array<{ atMs: number; active: number; queued: number; running: number }>;
    const all = samples.findIndex((s) => s.active === 4);
    expect({ reachedAll: all > 0, samples }).toEqual({ reachedAll: true, samples });
    // Early: at that moment the copies held or queued at least half of the tasks…
    expect(samples[all].queued + samples[all].running).toBeGreaterThanOrEqual(items / 2);
    // …and it never dropped a copy while tasks waited (queued, or a running batch of more tasks than copies).
    for (let i = 1; i < samples.length; i++) {
      if (samples[i].active < samples[i - 1].active) expect({ i, queued: samples[i].queued, runningAtMostActive: samples[i].running <= samples[i - 1].active }).toEqual({ i, queued: 0, runningAtMostActive: true });
    }
  });
});
