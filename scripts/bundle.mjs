#!/usr/bin/env node
/**
 * Run in a package after tsc:
 *   node ../../scripts/bundle.mjs <entry.ts> <out.js> [--inline pkg[,pkg…]]
 *   node ../../scripts/bundle.mjs --outdir dist [--inline pkg[,pkg…]] <entry.ts> <entry.ts> …
 * replaces tsc's output for the entry (or entries) with one module holding the package's
 * code it reaches (other packages stay imports, so there is still one copy of @d4/core).
 * Several entries share what they have in common through chunks (esbuild's splitting), so
 * that a class reached from two entries (core's index and internal) exists once. Chunks sit
 * beside the entries, so import.meta.url-relative paths in them resolve as in the entries.
 * `--inline a,b`: those packages are bundled in too (the CLI inlines commander: loaded as
 * its own CommonJS files it was ~10 ms of a warm `d4 run`; core inlines msgpackr's codec:
 * as four ES modules resolved through its exports map it took 12–30 ms of every process and
 * worker start, bundled 4–6 ms).
 *
 * Why: every worker thread of a parallel mapping imports core and its worker entry before
 * it can run a PE, and Node's ESM loader costs about a millisecond per module. Core as 16
 * modules took ~30 ms of each worker's start; as one, ~15 ms. The other files tsc wrote stay
 * for their type declarations and for deep imports within the package.
 */
import { readdirSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { build } from 'esbuild';
import { buildWithCodeCache } from './code-cache.mjs';

const args = process.argv.slice(2);
// `--code-cache NAME`: the entries become stubs over one body run with a V8 code cache
// (scripts/code-cache.mjs): NAME names the body file.
const cacheAt = args.indexOf('--code-cache');
const codeCache = cacheAt >= 0 ? args.splice(cacheAt, 2)[1] : undefined;
if (cacheAt >= 0 && !codeCache) usage();
const common = {
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // PE ids and error messages use class names; a bundler may otherwise rename clashing ones.
  keepNames: true,
  sourcemap: true,
  logLevel: 'warning',
};

/**
 * commander require()s node:child_process when it loads, for executable subcommands d4 never
 * uses; loading it (with net, dgram and their streams) was ~4 % of a warm `d4 run simple`.
 * An inlined package's require() of it gets an object that loads the module on first use.
 */
const LAZY_BUILTIN = 'd4-lazy-builtin';
function lazyBuiltin(name) {
  // No 'node:' prefix here, so that this require() is not itself made lazy again.
  return `let loaded; module.exports = new Proxy({}, { get: (_, key) => (loaded ??= require(${JSON.stringify(name)}))[key] });`;
}

/** Every package stays an import, but those named to be inlined. */
function externals(inline) {
  if (!inline) return { packages: 'external' };
  const packageName = (specifier) => specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');
  return {
    plugins: [
      {
        name: 'external-unless-inlined',
        setup(b) {
          b.onResolve({ filter: /^node:child_process$/ }, (a) => (a.kind === 'require-call' ? { path: 'child_process', namespace: LAZY_BUILTIN } : undefined));
          b.onLoad({ filter: /.*/, namespace: LAZY_BUILTIN }, (a) => ({ contents: lazyBuiltin(a.path), loader: 'js' }));
          b.onResolve({ filter: /^[^./]/ }, (a) => (inline.has(packageName(a.path)) && a.kind !== 'entry-point' ? undefined : { path: a.path, external: true }));
        },
      },
    ],
    // Inlined CommonJS calls require() for Node's built-ins; an ES module has none of its own.
    banner: { js: "import { createRequire as __d4CreateRequire } from 'node:module';\nconst require = __d4CreateRequire(import.meta.url);" },
  };
}

if (args[0] === '--outdir') {
  const [, outdir, ...rest] = args;
  const inline = rest[0] === '--inline' && rest[1] ? new Set(rest[1].split(',')) : undefined;
  const entryPoints = inline ? rest.slice(2) : rest;
  if (!outdir || entryPoints.length === 0) usage();
  // Chunk names carry a content hash: without this, every rebuild leaves the old ones behind.
  // (Also the named chunks of dynamic imports, `rank-zero-<hash>.js`: esbuild's hashes are
  // eight capitals or digits, which tsc's file names never end with.)
  for (const name of safeList(outdir)) if (/^(chunk|[a-z][\w-]*)-[A-Z0-9]{8}\.js(\.map)?$/.test(name)) rmSync(join(outdir, name));
  if (codeCache) {
    const entries = entryPoints.map((e) => ({ in: e, out: join(outdir, relative('src', e).replace(/\.ts$/, '.js')) }));
    await buildWithCodeCache(build, { ...common, ...externals(inline) }, entries, codeCache);
  } else {
    await build({ ...common, ...externals(inline), entryPoints, outdir, outbase: 'src', splitting: true, chunkNames: '[name]-[hash]' });
  }
} else {
  const [entry, outfile, ...rest] = args;
  const inline = rest[0] === '--inline' && rest[1] ? new Set(rest[1].split(',')) : undefined;
  if (!entry || !outfile || (rest.length > 0 && !inline)) usage();
  if (codeCache) await buildWithCodeCache(build, { ...common, ...externals(inline) }, [{ in: entry, out: outfile }], codeCache);
  else await build({ ...common, ...externals(inline), entryPoints: [entry], outfile });
}

function usage() {
  console.error('usage: node scripts/bundle.mjs [--code-cache NAME] <entry.ts> <out.js> [--inline pkg[,pkg…]] | [--code-cache NAME] --outdir <dir> [--inline pkg[,pkg…]] <entry.ts>… (run in the package folder)');
  process.exit(2);
}

function safeList(dir) {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
