import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { D4Error } from '@d4/core';

/**
 * The file local worker processes start from: ./worker-process.js beside this module in the
 * built package; when this module runs from its .ts source (jest), the built
 * dist/worker-process.js, so the package must be built first.
 */
export function workerFile(): string {
  const here = import.meta.url;
  const path = fileURLToPath(here.endsWith('.ts') ? new URL('../dist/worker-process.js', here) : new URL('./worker-process.js', here));
  if (!existsSync(path)) {
    throw new D4Error('D4_NOT_BUILT', `the worker entry ${path} does not exist; build @d4/mapping-zmq first (npx turbo run build)`);
  }
  return path;
}
