import type { Redis } from 'ioredis';
import { D4Error, encode } from '@d4/core';
import { toWireError } from '@d4/runtime';
import type { WorkerFailure } from './worker-config.js';
import { GROUP, type JobKeys } from './keys.js';
import { defineScripts, driverEntryCall } from './scripts.js';

/** How a worker's failures reach the driver (which rebuilds them with the runtime's fromWireError). */

/** An error already reported to the driver (the worker process need not print it). */
export class ReportedError extends Error {
  constructor(readonly inner: unknown) {
    super((inner as Error)?.message ?? String(inner));
  }
}

export function jobGone(job: string): D4Error {
  return new D4Error('D4_REDIS_JOB_GONE', `job ${job} is over or was never started on this server (its keys are gone); start a run first, and join it with the job id it prints`);
}

/** Tells the driver why this worker fails, without writing anything of the failed batch. */
export async function reportError(redis: Redis, keys: JobKeys, consumer: string, error: unknown): Promise<void> {
  const call = driverEntryCall(keys, GROUP, 'x', encode(errorReport(consumer, error)));
  await defineScripts(redis).commit(call.keys, call.args);
}

/** An error as the driver's stream carries it (the driver rebuilds it with the runtime's fromWireError). */
export function errorReport(consumer: string, error: unknown): WorkerFailure {
  return { consumer, error: toWireError(error) };
}
