import type { Redis } from 'ioredis';
import type { RunOptions, WorkflowGraph } from '@d4/core';
import type { Membership } from '@d4/runtime';
import type { JobKeys } from './keys.js';
import type { ParsedOptions } from './options.js';
import type { Plan } from './plan.js';
import type { Scripts } from './scripts.js';

/** What the driver's parts (job-store, local-workers, termination, …) share about one job. */
export interface JobContext {
  readonly graph: WorkflowGraph;
  readonly plan: Plan;
  readonly keys: JobKeys;
  readonly parsed: ParsedOptions;
  readonly options: RunOptions & { quiet?: boolean };
  /** Commands; `reader` is kept for the blocking reads of the driver's stream. */
  readonly redis: Redis;
  readonly reader: Redis;
  readonly scripts: Scripts;
  /** The workers that joined, left and died (the runtime's Membership). */
  readonly members: Membership;
  /** True once the run is ending, done or failed: nothing new starts. */
  stopped(): boolean;
  /** Fails the run once (the first failure wins). */
  fail(error: unknown): void;
}

/** Sends one control message to every registered worker; returns the names of those it reached. */
export async function broadcast(ctx: JobContext, field: string, value: string): Promise<string[]> {
  const members = await ctx.scripts.broadcast([ctx.keys.meta, ctx.keys.workers], [ctx.keys.prefix + 'c:', field, value]);
  return members.map(String);
}
