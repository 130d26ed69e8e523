#!/usr/bin/env node
/**
 * `node ../../scripts/bundle.mjs <entry.ts> <out.js>`, run in a package after tsc: replaces
 * tsc's output for that entry with one module holding the package's code it reaches
 * (other packages stay imports, so there is still one copy of @d4/core).
 *
 * Why: every worker thread of a parallel mapping imports core and its worker entry before
 * it can run a PE, and Node's ESM loader costs about a millisecond per module. Core as 16
 * modules took ~30 ms of each worker's start; as one, ~15 ms. The other files tsc wrote stay
 * for their type declarations and for deep imports within the package.
 */
import { build } from 'esbuild';

const [entry, outfile] = process.argv.slice(2);
if (!entry || !outfile) {
  console.error('usage: node scripts/bundle.mjs <entry.ts> <out.js> (run in the package folder)');
  process.exit(2);
}
await build({
  entryPoints: [entry],
  outfile,
  bundle: true,
  packages: 'external',
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // PE ids and error messages use class names; a bundler may otherwise rename clashing ones.
  keepNames: true,
  sourcemap: true,
  logLevel: 'warning',
});
