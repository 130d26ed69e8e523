import { describe, expect, it, jest } from '@jest/globals';
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { loadWorkflow } from '@d4/core';
import { mappings } from '../src/index.js';

const probe = fileURLToPath(new URL('./fixtures/transfer-probe.ts', import.meta.url));

// Transferring an ArrayBuffer detaches it, and the first detach in a thread makes every
// typed-array access there slower for good (V8's detach protector): d4 copies instead.
describe('no ArrayBuffer is transferred between threads', () => {
  for (const [name, n] of [['multi', 5], ['dyn_multi', 2], ['dyn_auto_multi', 2]] as const) {
    it(`${name}: neither the workers nor the driver transfer a buffer, with results streamed`, async () => {
      const fromDriver = jest.spyOn(Worker.prototype, 'postMessage');
      let result;
      try {
        result = await mappings[name].run(await loadWorkflow(probe), { '*': 5000 }, { numProcesses: n, threads: 2 });
      } finally {
        const transfers = fromDriver.mock.calls.filter(([, transfer]) => Array.isArray(transfer) && transfer.some((t) => t instanceof ArrayBuffer));
        fromDriver.mockRestore();
        expect(transfers).toEqual([]);
      }
      const outputs = result.outputs as Record<string, Record<string, unknown[]>>;
      expect(outputs.Probe2.output).toHaveLength(5000);
      const reports = [...outputs.Probe1.detaching, ...outputs.Probe2.detaching] as Array<[number, number]>;
      // Every Probe copy reported, from both worker threads, and none saw a detaching message.
      expect(new Set(reports.map(([thread]) => thread)).size).toBe(2);
      expect(reports.filter(([, count]) => count !== 0)).toEqual([]);
    }, 30_000);
  }
});
