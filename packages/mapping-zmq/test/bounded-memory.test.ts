import { expect, it } from '@jest/globals';
import { loadWorkflow } from '@d4/core';
import { mappings } from '../src/index.js';
import { fixtures } from './helpers.js';

it('1 000 000 items from a fast producer through a slow PE: the producer is held back, every item arrives, each worker stays under a 32 MB heap', async () => {
  const workflow = await loadWorkflow(fixtures, { exportName: 'slowSink', args: { micros: 2 } });
  // Every PE instance has a process of its own, each run with --max-old-space-size=32: a worker that buffered what the
  // producer made ahead of the slow PE would die, and the run fail with D4_WORKER_DIED.
  const result = await mappings.zmq_multi.run(workflow, { '*': 1_000_000 }, { numProcesses: 3, processes: 3, results: 'count', workerMemory: 32 });
  expect(result.counts).toEqual({ Identity2: { output: 1_000_000 } });
  expect(result.stats.pes.Slow1).toMatchObject({ calls: 1_000_000, writes: 1_000_000 });
  expect(result.stats.workers).toBe(3);
  expect(result.stats.peakWorkerHeapMb as number).toBeLessThan(32);
}, 120_000);
