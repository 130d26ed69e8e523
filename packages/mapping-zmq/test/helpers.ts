import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export { freePort } from '@d4/runtime/testing';

/**
 * One suite over every transport zmq_multi has on one host, in the manner of zeromq.js's
 * own `testProtos`: `describe.each(protocols)` runs each test over ipc:// and tcp://.
 */
export const protocols = ['ipc', 'tcp'] as const;
export type Protocol = (typeof protocols)[number];

/** The workflows of these tests (test/fixtures/workflows.ts). */
export const fixtures = fileURLToPath(new URL('./fixtures/workflows.ts', import.meta.url));

/** Waits for a condition another process makes true; fails after `ms` so that nothing hangs. */
export async function waitFor(condition: () => boolean, what: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The pid a Hang PE wrote into its marker file, once it is there. */
export async function hungPid(marker: string): Promise<number> {
  await waitFor(() => existsSync(marker) && readFileSync(marker, 'utf8').length > 0, 'a worker to hang on its first item');
  return Number(readFileSync(marker, 'utf8'));
}
