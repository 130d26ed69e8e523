import { describe, expect, it } from '@jest/globals';
import { checkContract, conformanceCases, runConformanceCase } from '@d4/runtime/conformance';
import { mappings } from '../src/index.js';
import { protocols } from './helpers.js';

/**
 * The conformance kit on zmq_multi over ipc:// and tcp://: the same multiset of outputs as
 * `simple` at each case's smallest size, with every unit in a process of its own (every link
 * crosses processes) and with units sharing two processes, and partitioned.
 */
describe.each(protocols)('zmq_multi over %s://', (protocol) => {
  for (const testCase of conformanceCases) {
    it(`${testCase.name}: same outputs as simple`, async () => {
      const n = testCase.minProcesses;
      for (const processes of [n, 2]) {
        const outcome = await runConformanceCase(mappings.zmq_multi, testCase, { numProcesses: n, processes, protocol });
        expect({ processes, differences: outcome.differences }).toEqual({ processes, differences: [] });
      }
    });
  }

  it('partitioned: same outputs as simple', async () => {
    for (const testCase of conformanceCases) {
      const outcome = await runConformanceCase(mappings.zmq_multi, testCase, { numProcesses: 2, partitioned: true, protocol });
      expect({ name: testCase.name, differences: outcome.differences }).toEqual({ name: testCase.name, differences: [] });
    }
  });

  it("keeps the runtime's contract: lifecycle per instance, a PE's error, abort", async () => {
    await checkContract(mappings.zmq_multi, { numProcesses: 4, protocol });
  });
});
