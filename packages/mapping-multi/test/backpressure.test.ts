import { describe, expect, it } from '@jest/globals';
import type { Mapping, RunResult } from '@d4/core';
import { mappings } from '../src/index.js';
import { workflow } from './helpers.js';

/**
 * A fast producer feeding a slow consumer: 1 000 000 items of ~512 bytes (about 500 MB if
 * they were buffered; without credits multi's process grows by ~470 MB here). With bounded
 * queues the producer is slowed instead. Memory is sampled in this process, which holds
 * every worker thread and every queue between them. Starting worker threads costs a fixed
 * amount (~75 MB with tsx loaded in each), so the bound is on what the 1 000 000-item run
 * needs beyond a 10 000-item run of the same graph.
 */
async function peakRssGrowthMb(mapping: Mapping, items: number, options: Record<string, unknown>): Promise<{ growthMb: number; result: RunResult }> {
  const base = process.memoryUsage().rss;
  let peak = base;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 5);
  try {
    const result = await mapping.run(await workflow('fastIntoSlow', { size: 512, spinMicros: 1 }), { '*': items }, { numProcesses: 2, collect: 'count', ...options });
    peak = Math.max(peak, process.memoryUsage().rss);
    return { growthMb: (peak - base) / 1048576, result };
  } finally {
    clearInterval(timer);
  }
}

describe('bounded queues', () => {
  for (const name of ['multi', 'dyn_multi'] as const) {
    it(`${name}: 1 000 000 items through a slow PE in another thread, with bounded memory and none lost`, async () => {
      const options = name === 'multi' ? { threads: 2 } : {};
      const small = await peakRssGrowthMb(mappings[name], 10_000, options);
      const large = await peakRssGrowthMb(mappings[name], 1_000_000, options);
      expect(large.result.stats.pes.Slow1.calls).toBe(1_000_000);
      expect(large.result.stats.pes.Payloads0.calls).toBe(1_000_000);
      process.stderr.write(`${name}: peak RSS growth ${large.growthMb.toFixed(0)} MB for 1 000 000 items, ${small.growthMb.toFixed(0)} MB for 10 000\n`);
      expect(large.growthMb - small.growthMb).toBeLessThan(150);
    });
  }
});
