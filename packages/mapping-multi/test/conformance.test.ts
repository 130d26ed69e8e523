import { describe, expect, it } from '@jest/globals';
import { checkContract, conformanceCases, runConformanceCase } from '@d4/runtime/conformance';
import { mappings } from '../src/index.js';

/**
 * The conformance kit on every mapping of the package: the same multiset of outputs as
 * `simple`, with -n from each case's minimum to 8 (min, min+1 and 8, to stay affordable on
 * a shared 2-core machine). multi runs both with its instances spread over two threads
 * (in-thread links) and with one thread per instance (every link crosses threads), and in
 * partitioned mode (-s).
 */
const sizes = (min: number) => [...new Set([min, min + 1, 8])];

describe('multi: conformance', () => {
  for (const testCase of conformanceCases) {
    it(`${testCase.name}`, async () => {
      for (const n of sizes(testCase.minProcesses)) {
        const threads = n === 8 ? 8 : 2;
        const outcome = await runConformanceCase(mappings.multi, testCase, { numProcesses: n, threads });
        expect({ n, threads, differences: outcome.differences }).toEqual({ n, threads, differences: [] });
      }
      const partitioned = await runConformanceCase(mappings.multi, testCase, { numProcesses: 2, simple: true });
      expect({ simple: true, differences: partitioned.differences }).toEqual({ simple: true, differences: [] });
    });
  }
});

for (const name of ['dyn_multi', 'dyn_auto_multi'] as const) {
  describe(`${name}: conformance`, () => {
    for (const testCase of conformanceCases) {
      if (testCase.stateful) {
        it(`${testCase.name} is refused (stateful)`, async () => {
          const error = await runConformanceCase(mappings[name], testCase, { numProcesses: 2 }).catch((e: unknown) => e);
          expect(error).toMatchObject({ code: 'D4_STATEFUL_REFUSED' });
          expect((error as Error).message).toMatch(new RegExp(`mapping '${name}' runs stateless PEs only, but PE \\w+ is stateful`));
          expect((error as Error).message).toContain("run this graph with 'multi' or 'hybrid_redis'");
        });
        continue;
      }
      it(`${testCase.name}`, async () => {
        for (const n of sizes(testCase.minProcesses)) {
          const outcome = await runConformanceCase(mappings[name], testCase, { numProcesses: n });
          expect({ n, differences: outcome.differences }).toEqual({ n, differences: [] });
        }
      });
    }
  });
}

describe("the runtime's contract (the kit's lifecycle, failure and abort checks)", () => {
  for (const name of ['multi', 'dyn_multi', 'dyn_auto_multi'] as const) {
    it(`${name}`, async () => {
      await checkContract(mappings[name], { numProcesses: 4 });
    });
  }
  it('multi, partitioned', async () => {
    await checkContract(mappings.multi, { numProcesses: 2, partitioned: true });
  });
});
