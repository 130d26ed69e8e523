/** What the harness (run.ts) and one repetition's child process (child.ts) exchange. */

/** Given to the child as its only argument, in JSON. */
export interface RepetitionSpec {
  workload: string;
  mapping: string;
  items: number;
  /** Mapping options (numProcesses, redisUrl, …). */
  options: Record<string, unknown>;
  /** Arguments of the workload's factory (WorkloadArgs). */
  args?: Record<string, unknown>;
}

/** Sent back over the IPC channel, once. */
export type RepetitionReport =
  | {
      kind: 'ok';
      /** Time of mapping.run(), in ms. */
      runMs: number;
      /** Peak resident set size of the child process, in kB (process.resourceUsage().maxRSS). */
      maxRssKB: number;
      /** Values the run wrote to unconnected outputs. */
      outputs: number;
      /** The run's per-PE stats (calls, sampled process() time). */
      pes?: Record<string, { instances: number; calls: number; writes: number; processMs: number }>;
    }
  | { kind: 'skipped'; reason: string }
  | { kind: 'failed'; code: string; message: string };
