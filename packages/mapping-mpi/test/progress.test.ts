import { describe, expect, it } from '@jest/globals';
import { checkLiveProgress } from '@d4/runtime/conformance';
import { mappings } from '../src/index.js';

/**
 * Progress crosses ranks as reports (the runtime's shared counters cannot): the kit's
 * gated run cannot end until the check has seen Gate2's calls reach item 41, which Gate2
 * holds, and the counts must be exact at the end.
 */
describe('progress under mpi', () => {
  it("the workers' call counts reach the caller's progress while the run goes, and are exact at the end", async () => {
    expect(await checkLiveProgress(mappings.mpi, { numProcesses: 3 })).toEqual([]);
  }, 60_000);
});
