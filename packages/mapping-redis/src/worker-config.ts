import type { LogFn, WorkflowSource } from '@d4/core';
import type { MemberReport, WireError } from '@d4/runtime';

/** What a worker is told, and what it tells: the configuration and report of runWorker(). */

export interface WorkerConfig {
  redisUrl: string;
  job: string;
  /** The mapping named on the command line; checked against the job's. */
  mapping?: string;
  /** Set by the driver for the workers it starts; joiners get theirs from Redis. */
  consumer?: string;
  rank?: number;
  /** Units whose leases the driver took for this worker. */
  units?: number[];
  /** Also print PEs' log lines here (they always go to the driver). */
  log?: LogFn;
  verbose?: boolean;
  /** Wait this long for the job to appear (workers started before their driver). */
  waitMs?: number;
  /** Stops the worker; what it holds is claimed by the others. */
  signal?: AbortSignal;
  /** The driver's compiled copy of the job's module (workers on its host): no tsx to load. */
  localSource?: WorkflowSource;
}

/** One local worker as the driver starts it. */
export interface LocalWorker {
  /** The worker's name, which is also its consumer name in the job's consumer groups. */
  consumer: string;
  rank: number;
  units: number[];
}

/** What a local worker process gets from the driver (D4_REDIS_WORKER). */
export interface LocalProcessConfig {
  redisUrl: string;
  job: string;
  verbose: boolean;
  workers: LocalWorker[];
  /** See WorkerConfig.localSource. */
  localSource?: WorkflowSource;
}

/** What a worker reports to the driver when the job stops (the runtime's MemberReport). */
export type WorkerReport = MemberReport;

/** What a failing worker tells the driver (the driver stream's 'x' entry): the runtime's wire format. */
export interface WorkerFailure {
  consumer: string;
  error: WireError;
}
