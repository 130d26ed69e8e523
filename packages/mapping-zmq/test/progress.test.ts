import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadWorkflow, type RunProgress } from '@d4/core';
import { mappings } from '../src/index.js';
import { fixtures } from './helpers.js';

/**
 * Progress crosses worker processes as reports (the runtime's shared counters cannot): the
 * run below cannot end until the test has seen Gate2's calls reach item 41 (which Gate2
 * holds until the test opens its gate), and the counts are exact at the end.
 */
describe('progress under zmq_multi', () => {
  it("the workers' call counts reach the caller's progress while the run goes, and are exact at the end", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'd4-zmq-gate-'));
    const gate = join(dir, 'open');
    try {
      const progress: RunProgress = { calls: {} };
      const workflow = await loadWorkflow(fixtures, { exportName: 'gated', args: { at: 41, gate } });
      const run = mappings.zmq_multi.run(workflow, { '*': 100 }, { numProcesses: 3, progress });
      // A call is counted when it starts: 41 calls once item 41 is held (the producer counts from 1).
      while ((progress.calls.Gate2 ?? 0) < 41) await sleep(20);
      const seen = { ...progress.calls };
      writeFileSync(gate, '');
      const result = await run;
      expect(seen.Gate2).toBe(41);
      expect(seen.Identity1).toBeGreaterThanOrEqual(41);
      expect(progress.calls).toEqual({ CountingProducer0: 100, Identity1: 100, Gate2: 100 });
      expect(result.stats.pes.Gate2.calls).toBe(100);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
