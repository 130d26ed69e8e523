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
      /**
       * The mapping's own figure for the run after start-up, when it keeps one (stats.runMs of
       * the fixed mappings: from every unit ready to the last item), in ms.
       */
      mappingRunMs?: number;
      /** Peak resident set size of the child process, in kB (process.resourceUsage().maxRSS). */
      maxRssKB: number;
      /** Values the run wrote to unconnected outputs. */
      outputs: number;
      /** The run's per-PE stats (calls, sampled process() time). */
      pes?: Record<string, { instances: number; calls: number; writes: number; processMs: number }>;
    }
  | { kind: 'skipped'; reason: string }
  | { kind: 'failed'; code: string; message: string };
