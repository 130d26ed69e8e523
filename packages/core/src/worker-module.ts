import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { WorkflowSource } from './mapping.js';

const TYPESCRIPT_FILE = /\.[cm]?tsx?$/;
/** Changes whenever the compile options below change, so older compiled modules are not reused. */
const COMPILE_SETTINGS = 'd4-worker-module v2: esm node20 keepNames inline-sourcemap import-meta';

/**
 * A TypeScript workflow compiled once, in the driver, into one ES module for workers.
 *
 * Why: a worker that imports `.ts` must register tsx, and under Node 20 every thread that
 * does so gets its own loader-hooks thread through which every import then round-trips:
 * about 150 ms per worker on an idle machine, twice that when workers start together. A
 * compiled module loads like any JavaScript (~60 ms, mostly @d4/core itself).
 *
 * How: esbuild (already installed with tsx) bundles the module's own files and leaves
 * every package import external. The output goes to `.cache/d4` inside the nearest
 * `node_modules` above the module, so package imports resolve as they do from the module.
 * Class and function names are kept (PE ids are built from them), and each file's
 * `import.meta.url`, `dirname` and `filename` keep their original values, so modules that
 * read files beside themselves still work; an inline source map keeps stack traces on the
 * user's files and lines. Anything unexpected falls back to the original
 * source, which workers load through tsx as before.
 */
/** Where compiled worker modules are written (inside a node_modules folder). */
export const COMPILED_WORKFLOW_DIR = `${'/'}node_modules${'/'}.cache${'/'}d4${'/'}`;

export async function prepareWorkerSource(source: WorkflowSource): Promise<WorkflowSource> {
  if (!TYPESCRIPT_FILE.test(source.module) || process.env.D4_WORKER_COMPILE === '0') return source;
  const cacheDir = nearestCacheDir(dirname(source.module));
  if (!cacheDir) return source;
  // A manifest lists the files the last compile read with their mtimes: while none changed,
  // the compiled module is reused without starting esbuild (~40 ms saved per run).
  const key = createHash('sha256').update(`${COMPILE_SETTINGS}\0${source.module}`).digest('hex').slice(0, 16);
  const manifest = join(cacheDir, `${basename(source.module)}.${key}.json`);
  const reused = reusable(manifest);
  if (reused) return { ...source, module: reused };
  try {
    const esbuild = await import('esbuild');
    const result = await esbuild.build({
      entryPoints: [source.module],
      bundle: true,
      packages: 'external',
      format: 'esm',
      platform: 'node',
      target: 'node20',
      keepNames: true,
      // Stack traces must name the user's files and lines, not the compiled module: an
      // inline source map, with paths relative to the folder the module is written to.
      sourcemap: 'inline',
      outfile: join(cacheDir, 'bundle.mjs'),
      write: false,
      logLevel: 'silent',
      metafile: true,
      plugins: [keepImportMeta],
    });
    const code = result.outputFiles[0].text;
    const hash = createHash('sha256').update(code).digest('hex').slice(0, 16);
    const file = join(cacheDir, `${basename(source.module).replace(TYPESCRIPT_FILE, '')}.${hash}.mjs`);
    if (!existsSync(file)) {
      mkdirSync(cacheDir, { recursive: true });
      writeAtomically(file, code);
    }
    const inputs = Object.keys(result.metafile?.inputs ?? {}).map((input) => resolve(input));
    writeAtomically(manifest, JSON.stringify({ output: file, inputs: Object.fromEntries(inputs.map((input) => [input, statSync(input).mtimeMs])) }));
    return { ...source, module: file };
  } catch {
    return source;
  }
}

/** The compiled module of a manifest whose inputs are all unchanged, else undefined. */
function reusable(manifest: string): string | undefined {
  try {
    const { output, inputs } = JSON.parse(readFileSync(manifest, 'utf8')) as { output: string; inputs: Record<string, number> };
    if (!existsSync(output)) return undefined;
    for (const [input, mtime] of Object.entries(inputs)) if (statSync(input).mtimeMs !== mtime) return undefined;
    return output;
  } catch {
    return undefined;
  }
}

/** Written whole, then renamed: concurrent runs never see half a file. */
function writeAtomically(file: string, text: string): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, text);
  renameSync(temporary, file);
}

function nearestCacheDir(start: string): string | undefined {
  for (let dir = start; ; dir = dirname(dir)) {
    const modules = join(dir, 'node_modules');
    if (existsSync(modules)) return join(modules, '.cache', 'd4');
    if (dirname(dir) === dir) return undefined;
  }
}

const keepImportMeta = {
  name: 'd4-keep-import-meta',
  setup(build: { onLoad: (options: { filter: RegExp }, callback: (args: { path: string }) => { contents: string; loader: 'ts' | 'tsx' | 'js' } | undefined) => void }) {
    build.onLoad({ filter: /\.[cm]?[jt]sx?$/ }, (args) => {
      if (args.path.includes(`${'/'}node_modules${'/'}`)) return undefined;
      const text = readFileSync(args.path, 'utf8');
      const contents = text
        .replace(/\bimport\.meta\.url\b/g, JSON.stringify(pathToFileURL(args.path).href))
        .replace(/\bimport\.meta\.dirname\b/g, JSON.stringify(dirname(args.path)))
        .replace(/\bimport\.meta\.filename\b/g, JSON.stringify(args.path));
      return { contents, loader: /x$/.test(args.path) ? 'tsx' : TYPESCRIPT_FILE.test(args.path) ? 'ts' : 'js' };
    });
  },
};
