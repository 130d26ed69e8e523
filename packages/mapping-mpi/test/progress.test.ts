import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RunProgress } from '@d4/core';
import { mappings } from '../src/index.js';
import { workflow } from './helpers.js';

/**
 * Progress crosses ranks as reports (the runtime's shared counters cannot): the run below
 * cannot end until the test has seen Gate2's calls on rank 2 reach item 40 (which Gate2
 * holds until the test opens its gate), and the counts are exact at the end.
 */
describe('progress under mpi', () => {
  it("the ranks' call counts reach the caller's progress while the run goes, and are exact at the end", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'd4-mpi-gate-'));
    const gate = join(dir, 'open');
    try {
      const progress: RunProgress = { calls: {} };
      const run = mappings.mpi.run(await workflow('gated', { at: 40, gate }), { '*': 100 }, { numProcesses: 3, progress });
      // A call is counted when it starts: 41 calls once item 40 is held.
      while ((progress.calls.Gate2 ?? 0) < 41) await sleep(20);
      const seen = { ...progress.calls };
      writeFileSync(gate, '');
      const result = await run;
      expect(seen.Gate2).toBe(41);
      expect(seen.Identity1).toBeGreaterThanOrEqual(41);
      expect(progress.calls).toEqual({ Numbers0: 100, Identity1: 100, Gate2: 100 });
      expect(result.stats.pes.Gate2.calls).toBe(100);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
