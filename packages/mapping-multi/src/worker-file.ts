import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { D4Error } from '@d4/core';

/**
 * The file worker threads start from. Workers must run real JavaScript: from the built
 * package this is ./worker.js beside this module; when this module runs from its .ts
 * source (jest), it is the built dist/worker.js, so the package must be built first.
 */
export function workerFile(): string {
  const here = import.meta.url;
  const path = fileURLToPath(here.endsWith('.ts') ? new URL('../dist/worker.js', here) : new URL('./worker.js', here));
  if (!existsSync(path)) {
    throw new D4Error(
      'D4_NOT_BUILT',
      `the worker entry ${path} does not exist; build @d4/mapping-multi first (cd packages/mapping-multi && npx tsc -p tsconfig.build.json, or turbo run build)`,
    );
  }
  return path;
}
