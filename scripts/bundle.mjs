#!/usr/bin/env node
/**
 * Run in a package after tsc:
 *   node ../../scripts/bundle.mjs <entry.ts> <out.js>
 *   node ../../scripts/bundle.mjs --outdir dist <entry.ts> <entry.ts> …
 * replaces tsc's output for the entry (or entries) with one module holding the package's
 * code it reaches (other packages stay imports, so there is still one copy of @d4/core).
 * Several entries share what they have in common through chunks (esbuild's splitting), so
 * that a class reached from two entries (core's index and internal) exists once. Chunks sit
 * beside the entries, so import.meta.url-relative paths in them resolve as in the entries.
 *
 * Why: every worker thread of a parallel mapping imports core and its worker entry before
 * it can run a PE, and Node's ESM loader costs about a millisecond per module. Core as 16
 * modules took ~30 ms of each worker's start; as one, ~15 ms. The other files tsc wrote stay
 * for their type declarations and for deep imports within the package.
 */
import { build } from 'esbuild';

const args = process.argv.slice(2);
const common = {
  bundle: true,
  packages: 'external',
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // PE ids and error messages use class names; a bundler may otherwise rename clashing ones.
  keepNames: true,
  sourcemap: true,
  logLevel: 'warning',
};
if (args[0] === '--outdir') {
  const [, outdir, ...entryPoints] = args;
  if (!outdir || entryPoints.length === 0) usage();
  await build({ ...common, entryPoints, outdir, outbase: 'src', splitting: true, chunkNames: '[name]-[hash]' });
} else {
  const [entry, outfile] = args;
  if (!entry || !outfile) usage();
  await build({ ...common, entryPoints: [entry], outfile });
}

function usage() {
  console.error('usage: node scripts/bundle.mjs <entry.ts> <out.js> | --outdir <dir> <entry.ts>… (run in the package folder)');
  process.exit(2);
}
