// Over ipc:// the driver gives each local worker its job at spawn, in its environment; a job
// too large for that (Linux takes at most 128 KB in one variable) goes by JOB message, as
// over tcp://. A listed input travels in the plan, so 4 000 inputs of 60 characters make a
// job of ~300 KB: spawned with it in the environment, the workers would not start (E2BIG).
import { describe, expect, it } from '@jest/globals';
import { loadWorkflow } from '@d4/core';
import { mappings } from '../src/index.js';
import { fixtures } from './helpers.js';

describe('zmq_multi jobs over ipc://', () => {
  it('a job over 64 KB goes by JOB message: 4 000 listed inputs of 60 characters through 3 PEs in 3 processes, every one out once', async () => {
    const workflow = await loadWorkflow(fixtures, { exportName: 'identities' });
    const values = Array.from({ length: 4000 }, (_, i) => `${i}`.padStart(60, '-'));
    const result = await mappings.zmq_multi.run(workflow, { Identity0: values.map((input) => ({ input })) }, { numProcesses: 3, processes: 3, protocol: 'ipc' });
    expect(result.stats.workers).toBe(3);
    expect([...(result.outputs.Identity2.output as string[])].sort()).toEqual([...values].sort());
  });
});
