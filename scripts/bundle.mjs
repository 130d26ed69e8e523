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

const [entry, outfile, ...rest] = process.argv.slice(2);
// `--inline a,b`: those packages are bundled in too (the CLI inlines commander: loaded as
// its own CommonJS files it was ~10 ms of a warm `d4 run`). Every other package stays an import.
const inline = rest[0] === '--inline' && rest[1] ? new Set(rest[1].split(',')) : undefined;
if (!entry || !outfile || (rest.length > 0 && !inline)) {
  console.error('usage: node scripts/bundle.mjs <entry.ts> <out.js> [--inline pkg[,pkg…]] (run in the package folder)');
  process.exit(2);
}
const packageName = (specifier) => specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');
const externalUnlessInlined = {
  name: 'external-unless-inlined',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => (inline.has(packageName(args.path)) && args.kind !== 'entry-point' ? undefined : { path: args.path, external: true }));
  },
};
await build({
  entryPoints: [entry],
  outfile,
  bundle: true,
  ...(inline
    ? {
        plugins: [externalUnlessInlined],
        // Inlined CommonJS calls require() for Node's built-ins; an ES module has none of its own.
        banner: { js: "import { createRequire as __d4CreateRequire } from 'node:module';\nconst require = __d4CreateRequire(import.meta.url);" },
      }
    : { packages: 'external' }),
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // PE ids and error messages use class names; a bundler may otherwise rename clashing ones.
  keepNames: true,
  sourcemap: true,
  logLevel: 'warning',
});
