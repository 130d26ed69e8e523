/**
 * One suite over every transport zmq_multi has on one host, in the manner of zeromq.js's
 * own `testProtos`: `describe.each(protocols)` runs each test over ipc:// and tcp://.
 */
export const protocols = ['ipc', 'tcp'] as const;
export type Protocol = (typeof protocols)[number];

import { fileURLToPath } from 'node:url';
export const fixtures = fileURLToPath(new URL('./fixtures/workflows.ts', import.meta.url));

import { createServer } from 'node:net';
import { existsSync, readFileSync } from 'node:fs';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

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
