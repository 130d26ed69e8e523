import { MPI } from '../../src/index.js';

// What a test program prints for its test to read: one `RESULT <json>` line. Values that
// JSON cannot show (typed arrays, bigints, Maps) are described first.
export function describe(value: unknown): unknown {
  if (typeof value === 'bigint') return `${value}n`;
  if (value instanceof Map) return { Map: [...value].map(([k, v]) => [describe(k), describe(v)]) };
  if (value instanceof Set) return { Set: [...value].map(describe) };
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    const items = Array.from(value as unknown as ArrayLike<number | bigint>, (x) => describe(x));
    return { [value.constructor.name]: items };
  }
  if (Array.isArray(value)) return value.map(describe);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, describe(v)]));
  return value;
}

export function report(rank: number, fields: Record<string, unknown>): void {
  process.stdout.write(`RESULT ${JSON.stringify({ rank, ...(describe(fields) as object) })}\n`);
}

/** Runs a program's main; an error is printed with its code and ends the job with 1. */
export function main(run: () => Promise<void>): void {
  run().catch((error: { code?: string; message?: string }) => {
    process.stdout.write(`RESULT ${JSON.stringify({ rank: -1, error: error.code ?? 'none', message: error.message })}\n`);
    process.exitCode = 1;
    // The other ranks may be waiting for this one: end the job rather than hang in finalize.
    if (MPI.initialized) MPI.COMM_WORLD.abort(1);
  });
}
