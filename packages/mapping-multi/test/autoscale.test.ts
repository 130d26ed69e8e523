import { describe, expect, it } from '@jest/globals';
import { mappings } from '../src/index.js';
import { workflow } from './helpers.js';

describe('dyn_auto_multi: a CPU-bound job whose queue stays below the threshold', () => {
  it('gets every worker active while most of its work is left, and never drops one while tasks wait', async () => {
    const items = 200; // fewer tasks than the threshold (256): dispel4py's rule never grew here
    const result = await mappings.dyn_auto_multi.run(await workflow('fastIntoSlow', { size: 8, spinMicros: 3000 }), { '*': items }, { numProcesses: 4, collect: 'count' });
    expect(result.stats.pes.Slow1.calls).toBe(items);
    const samples = result.stats.activeWorkers as Array<{ atMs: number; active: number; queued: number; running: number }>;
    const all = samples.findIndex((s) => s.active === 4);
    expect({ reachedAll: all > 0, samples }).toEqual({ reachedAll: true, samples });
    // Early: at that moment the workers held or queued at least half of the tasks…
    expect(samples[all].queued + samples[all].running).toBeGreaterThanOrEqual(items / 2);
    // …and it never dropped a worker while tasks waited (queued, or a running batch of more tasks than workers).
    for (let i = 1; i < samples.length; i++) {
      if (samples[i].active < samples[i - 1].active) expect({ i, queued: samples[i].queued, runningAtMostActive: samples[i].running <= samples[i - 1].active }).toEqual({ i, queued: 0, runningAtMostActive: true });
    }
  });
});
