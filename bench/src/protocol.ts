/** What the harness (run.ts) and one repetition's child process (child.ts) exchange. */

/** Given to the child as its only argument, in JSON. */
export interface RepetitionSpec {
  workload: string;
  mapping: string;
  items: number;
  /** Mapping options (numProcesses, redisUrl, …). */
  options: Record<string, unknown>;
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
    }
  | { kind: 'skipped'; reason: string }
  | { kind: 'failed'; code: string; message: string };
