import { OptionError, guardProcessExit, type InputSpec, type Mapping, type RunOptions, type RunResult, type WorkflowInput } from '@d4/core';
import { runJob } from './driver.js';
import { autoOptions, commonOptions, jobIdOption, redisUrlOption } from './options.js';
import type { RedisMappingName } from './plan.js';
import { reportExit, runWorker } from './worker.js';

function redisMapping(name: RedisMappingName, description: string, stateful: boolean): Mapping {
  return {
    name,
    description,
    stateful,
    options: name === 'dyn_auto_redis' ? autoOptions : commonOptions,
    run(workflow: WorkflowInput, inputs?: InputSpec, options?: RunOptions): Promise<RunResult> {
      return runJob(name, workflow, inputs, options);
    },
    /** `d4 worker <mapping> --redis-url … --job <id>`: joins a running job of this mapping. */
    async worker(options: Record<string, unknown>): Promise<void> {
      const job = jobIdOption(options);
      if (!job) throw new OptionError(`d4 worker ${name} needs the job to join: --job <id> (the driver prints it when the run starts)`, 'D4_REDIS_JOB_OPTION');
      const wait = options.waitSeconds === undefined ? 0 : Number(options.waitSeconds);
      if (!Number.isFinite(wait) || wait < 0) throw new OptionError(`option waitSeconds (--wait) must be a number of seconds, 0 or more, got ${JSON.stringify(options.waitSeconds)}`);
      // A PE that calls process.exit() here ends the joining process: the driver hears which
      // PE, item and code first (as from the workers run() starts, see worker-process.ts).
      const guard = guardProcessExit((code, call) => void reportExit(code, call, 2000));
      try {
        await runWorker({
          redisUrl: redisUrlOption(options),
          job,
          mapping: name,
          waitMs: wait * 1000,
          verbose: options.verbose === true,
          log: typeof options.log === 'function' ? (options.log as never) : undefined,
          signal: options.signal instanceof AbortSignal ? options.signal : undefined,
        });
      } finally {
        guard.restore();
      }
    },
  };
}

export const redis = redisMapping('redis', 'fixed distribution over Redis Streams: one stream per PE instance, groupings routed exactly', true);
export const dyn_redis = redisMapping('dyn_redis', 'dynamic distribution over Redis Streams: one consumer group, any worker runs any PE (stateless)', false);
export const dyn_auto_redis = redisMapping('dyn_auto_redis', 'dyn_redis with active workers adjusted between 1 and N by idle time (stateless)', false);
export const hybrid_redis = redisMapping('hybrid_redis', 'stateful PEs pinned to dedicated instances with their own streams, stateless PEs through a shared consumer group', true);
