// The Node flags of the worker processes the driver starts: V8 compiles on each worker's
// main thread (one worker per core leaves no core for background compiler threads), the
// driver's own flags come after (a user's flag wins) and the heap limit last.
import { describe, expect, it } from '@jest/globals';
import { loadWorkflow } from '@d4/core';
import { mappings } from '../src/index.js';
import { withoutTsxFlags } from '@d4/runtime';
import { workerNodeArgs } from '../src/local-workers.js';
import { fixtures } from './helpers.js';

describe('local worker flags', () => {
  it('a worker process runs with --no-concurrent-recompilation first, then the driver flags, then --worker-memory as --max-old-space-size', async () => {
    const workflow = await loadWorkflow(fixtures, { exportName: 'nodeFlags' });
    const result = await mappings.zmq_multi.run(workflow, { NodeFlags: 1 }, { numProcesses: 2, processes: 2, workerMemory: 96 });
    expect(result.stats.workers).toBe(2);
    const [flags] = result.outputs.Identity1.output as string[][];
    expect(flags[0]).toBe('--no-concurrent-recompilation');
    expect(flags.at(-1)).toBe('--max-old-space-size=96');
    expect(flags.slice(1, -1)).toEqual(withoutTsxFlags(process.execArgv));
  });

  it("a flag of the driver's comes after the default, so that V8 takes the user's", () => {
    expect(workerNodeArgs(['--concurrent-recompilation', '--enable-source-maps'], undefined)).toEqual(['--no-concurrent-recompilation', '--concurrent-recompilation', '--enable-source-maps']);
    expect(workerNodeArgs([], 64)).toEqual(['--no-concurrent-recompilation', '--max-old-space-size=64']);
  });
});
