import { fileURLToPath } from 'node:url';
import { loadWorkflow, type LoadedWorkflow } from '@d4/core';

export const fixtures = fileURLToPath(new URL('./fixtures/graphs.ts', import.meta.url));
export const joinerScript = fileURLToPath(new URL('./fixtures/joiner.mjs', import.meta.url));
export const driverScript = fileURLToPath(new URL('./fixtures/driver.mjs', import.meta.url));

export function fixture(name: string): Promise<LoadedWorkflow> {
  return loadWorkflow(fixtures, { exportName: name });
}

/** Values of one output port, sorted numerically. */
export function sortedNumbers(values: unknown[] | undefined): number[] {
  return [...(values ?? [])].map(Number).sort((a, b) => a - b);
}

export function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/** Waits for a condition that another process makes true; fails after `ms` so nothing hangs. */
export async function waitFor(condition: () => boolean, what: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
