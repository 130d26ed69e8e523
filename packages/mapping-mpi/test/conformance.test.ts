import { describe, expect, it } from '@jest/globals';
import { checkContract, conformanceCases, runConformanceCase } from '@d4/runtime/conformance';
import { mappings } from '../src/index.js';

/**
 * The conformance kit on `mpi` under the real mpiexec (started by the mapping, one launch
 * per run): the same multiset of outputs as `simple` at -n from each case's minimum to 8
 * (the minimum on two ranks, --processes 2, instances sharing them; and 8 with one rank per
 * instance, the default: that launch starts eight Node processes on a shared 2-core
 * machine), and in partitioned mode (-s) on 2 ranks.
 */
const sizes = (min: number) => [...new Set([min, 8])];

describe('mpi: conformance', () => {
  for (const testCase of conformanceCases) {
    it(`${testCase.name}`, async () => {
      for (const n of sizes(testCase.minProcesses)) {
        const outcome = await runConformanceCase(mappings.mpi, testCase, n === 8 ? { numProcesses: n } : { numProcesses: n, processes: 2 });
        expect({ n, differences: outcome.differences }).toEqual({ n, differences: [] });
      }
      const partitioned = await runConformanceCase(mappings.mpi, testCase, { numProcesses: 2, partitioned: true });
      expect({ partitioned: true, differences: partitioned.differences }).toEqual({ partitioned: true, differences: [] });
    }, 180_000);
  }
});

describe("the runtime's contract (the kit's lifecycle, failure and abort checks)", () => {
  it('mpi, -n 4', async () => {
    await checkContract(mappings.mpi, { numProcesses: 4 });
  }, 180_000);
  it('mpi, partitioned', async () => {
    await checkContract(mappings.mpi, { numProcesses: 2, partitioned: true });
  }, 180_000);
});
