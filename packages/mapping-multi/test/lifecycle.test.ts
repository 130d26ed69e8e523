import { describe, expect, it, jest } from '@jest/globals';
import { mappings } from '../src/index.js';
import { valuesOf, workflow } from './helpers.js';

const ITEMS = 500;

function capture() {
  const lines: string[] = [];
  return { lines, log: (peId: string, instance: number, message: string) => lines.push(`${peId}#${instance}: ${message}`) };
}

describe('dyn_*: preprocess, postprocess and log in every worker copy', () => {
  for (const name of ['dyn_multi', 'dyn_auto_multi'] as const) {
    it(`${name}: each worker copy preprocesses and postprocesses once; postprocess output flows downstream`, async () => {
      const { lines, log } = capture();
      const result = await mappings[name].run(await workflow('lifecycle'), { '*': ITEMS }, { numProcesses: 3, log });
      const pre = lines.filter((l) => l.includes('preprocess ') && !l.includes('postprocess'));
      const post = lines.filter((l) => l.includes('postprocess '));
      expect(pre.sort()).toEqual(['Lifecycle1#0: preprocess 0/3', 'Lifecycle1#1: preprocess 1/3', 'Lifecycle1#2: preprocess 2/3']);
      expect(post).toHaveLength(3);
      const seenByCopies = post.map((l) => Number(/saw (\d+)/.exec(l)![1]));
      expect(seenByCopies.reduce((a, b) => a + b, 0)).toBe(ITEMS);
      // Every copy's count went to Sum, whose copies (postprocessed after Lifecycle's) sum them all.
      const sums = valuesOf(result.outputs, 'Sum2') as number[];
      expect(sums).toHaveLength(3);
      expect(sums.reduce((a, b) => a + b, 0)).toBe(ITEMS);
      expect((valuesOf(result.outputs, 'Lifecycle1') as number[]).sort((a, b) => a - b)).toEqual(Array.from({ length: ITEMS }, (_, i) => i));
      expect(result.stats.pes.Lifecycle1).toMatchObject({ instances: 3, calls: ITEMS });
    });
  }

  it('multi: log() from workers reaches the run’s log option, with the instance', async () => {
    const { lines, log } = capture();
    await mappings.multi.run(await workflow('lifecycle'), { '*': 10 }, { numProcesses: 3, log });
    expect(lines.sort()).toEqual(['Lifecycle1#0: postprocess 0 saw 10', 'Lifecycle1#0: preprocess 0/1']);
  });
});

describe('results and counts', () => {
  for (const name of ['multi', 'dyn_multi', 'dyn_auto_multi'] as const) {
    it(`${name}: collect 'count' counts unconnected outputs; onOutput sees each value`, async () => {
      const counted = await mappings[name].run(await workflow('lifecycle'), { '*': 200 }, { numProcesses: 3, collect: 'count', log: () => {} });
      expect(counted.outputs).toEqual({});
      expect(counted.counts.Lifecycle1).toEqual({ output: 200 });
      const seen: unknown[] = [];
      const streamed = await mappings[name].run(await workflow('lifecycle'), { '*': 200 }, {
        numProcesses: 3,
        collect: 'count',
        log: () => {},
        onOutput: (peId, port, value) => {
          if (peId === 'Lifecycle1' && port === 'output') seen.push(value);
        },
      });
      expect(streamed.counts.Lifecycle1).toEqual({ output: 200 });
      expect((seen as number[]).sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    });
  }
});

describe('dyn_auto_multi: autoscaling', () => {
  it('reports the active workers over time, within 1..N, starting at ⌊(N−1)/2⌋+1, and prints them with verbose', async () => {
    const write = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    let result;
    let lines: string[];
    try {
      result = await mappings.dyn_auto_multi.run(await workflow('fastIntoSlow', { size: 16, spinMicros: 20 }), { '*': 20_000 }, { numProcesses: 4, threshold: 10, verbose: true, collect: 'count' });
    } finally {
      lines = write.mock.calls.map((c) => String(c[0]));
      write.mockRestore();
    }
    const samples = result.stats.activeWorkers as Array<{ atMs: number; active: number }>;
    expect(samples[0]).toMatchObject({ atMs: 0, active: 2 });
    for (const s of samples) expect(s.active >= 1 && s.active <= 4).toBe(true);
    // The queue of slow tasks stays above the threshold, so it grew at some point.
    expect(Math.max(...samples.map((s) => s.active))).toBeGreaterThan(2);
    expect(result.counts.Slow1).toEqual({ output: 4 });
    const line = lines.find((l) => l.startsWith('dyn_auto_multi: active workers over time: 2@0ms'));
    expect(line).toBeDefined();
  });
});

describe('progress', () => {
  for (const name of ['multi', 'dyn_multi'] as const) {
    it(`${name}: the progress counters end at the exact number of calls per PE`, async () => {
      const progress = { calls: {} as Record<string, number> };
      const result = await mappings[name].run(await workflow('lifecycle'), { '*': 300 }, { numProcesses: 3, progress, log: () => {} });
      expect(progress.calls).toEqual({ Numbers0: 300, Lifecycle1: 300, Sum2: name === 'multi' ? 1 : 3 });
      expect(result.stats.pes.Lifecycle1.calls).toBe(300);
    });
  }
});
