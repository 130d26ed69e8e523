import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { COMPILED_WORKFLOW_DIR } from '@d4/core/internal';
import type { WorkflowSource } from '@d4/core';

const TYPESCRIPT_FILE = /\.[cm]?tsx?$/;
/** Changes whenever the compile options below change, so older compiled modules are not reused. */
const COMPILE_SETTINGS = 'd4-worker-module v5: esm node20 keepNames inline-sourcemap-without-sources import-meta no-ts-packages named-by-path';

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
 * user's files and lines. A module that imports a package whose entry is itself TypeScript
 * (a workspace package exporting src/*.ts) is not compiled, and anything unexpected falls
 * back to the original source too: workers then load it through tsx as before.
 */
/** Where compiled worker modules are written (inside a node_modules folder). */

export async function prepareWorkerSource(source: WorkflowSource): Promise<WorkflowSource> {
  if (!TYPESCRIPT_FILE.test(source.module) || process.env.D4_WORKER_COMPILE === '0') return source;
  const cacheDir = nearestCacheDir(dirname(source.module));
  if (!cacheDir) return source;
  // A manifest lists the files the last compile read with their mtimes: while none changed,
  // the compiled module is reused without starting esbuild (~40 ms saved per run). Its name
  // needs no cryptographic hash: loading node:crypto alone was ~7 ms of a warm `d4 run`.
  const manifest = join(cacheDir, `${basename(source.module)}.${fnv1a64(`${COMPILE_SETTINGS}\0${source.module}`)}.json`);
  const reused = reusable(manifest);
  if (reused) return { ...source, module: reused };
  // Loaded here, not at the top: every worker thread imports core, and none of them hashes.
  const { createHash } = await import('node:crypto');
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
      // Stack traces need the mappings only; the sources' text made pipeline_test's module
      // 17.6 KB instead of 5, which every process that loads it reads, scans and decodes.
      sourcesContent: false,
      outfile: join(cacheDir, 'bundle.mjs'),
      write: false,
      logLevel: 'silent',
      metafile: true,
      plugins: [keepImportMeta],
    });
    mkdirSync(cacheDir, { recursive: true });
    // A module importing a TypeScript package stays as it is (the manifest then names the source itself).
    let file = source.module;
    if (!importsTypeScriptPackage(result.metafile)) {
      const code = result.outputFiles[0].text;
      const hash = createHash('sha256').update(code).digest('hex').slice(0, 16);
      // Named by module (its name and a hash of its path) and content: a changed module gets a
      // new file, and the files of its earlier versions are removed.
      const prefix = `${basename(source.module).replace(TYPESCRIPT_FILE, '')}.${createHash('sha256').update(source.module).digest('hex').slice(0, 8)}.`;
      file = join(cacheDir, `${prefix}${hash}.mjs`);
      if (!existsSync(file)) writeAtomically(file, code);
      removeEarlierVersions(cacheDir, prefix, file);
    }
    const inputs = Object.keys(result.metafile?.inputs ?? {}).map((input) => resolve(input));
    writeAtomically(manifest, JSON.stringify({ output: file, inputs: Object.fromEntries(inputs.map((input) => [input, statSync(input).mtimeMs])) }));
    return file === source.module ? source : { ...source, module: file };
  } catch {
    return source;
  }
}

/**
 * The options for a worker thread that runs `source` (as returned by prepareWorkerSource).
 * A compiled module is plain JavaScript that imports only JavaScript packages, so the
 * worker drops tsx's loader flags inherited from the driver (`tsx script.ts`, `node
 * --import tsx`): under Node 20 each thread with them starts a loader-hooks thread of its
 * own (~40 ms per worker, doubled when workers start together on two cores). Any other
 * flag is kept, and other sources inherit every flag as usual.
 */
export function workerExecArgv(source: WorkflowSource): string[] | undefined {
  if (!source.module.includes(COMPILED_WORKFLOW_DIR)) return undefined;
  return withoutTsxFlags(process.execArgv);
}

const LOADER_FLAGS = new Set(['--import', '--require', '-r', '--loader', '--experimental-loader']);
const TSX_SPECIFIER = /^tsx(\/|$)|[\\/]tsx[\\/]/;

export function withoutTsxFlags(execArgv: readonly string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const arg = execArgv[i];
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    if (LOADER_FLAGS.has(flag)) {
      const value = eq > 0 ? arg.slice(eq + 1) : execArgv[i + 1];
      if (eq < 0) i++;
      if (value !== undefined && TSX_SPECIFIER.test(value)) continue;
      kept.push(arg);
      if (eq < 0 && value !== undefined) kept.push(value);
      continue;
    }
    kept.push(arg);
  }
  return kept;
}

interface Metafile {
  inputs: Record<string, { imports: Array<{ path: string; external?: boolean }> }>;
}

const PACKAGE_SPECIFIER = /^(@[\w.~-]+\/)?[\w~-][\w.~-]*(\/|$)/;

/** Whether the bundle leaves an import of a package whose entry points are TypeScript files. */
function importsTypeScriptPackage(metafile: Metafile | undefined): boolean {
  if (!metafile) return true;
  // Every file of a workflow imports the same few packages: each (folder, package) once.
  const checked = new Set<string>();
  for (const [input, { imports }] of Object.entries(metafile.inputs)) {
    const from = dirname(resolve(input));
    for (const { path, external } of imports) {
      // Only package imports count: not built-ins, nor esbuild's own "<runtime>" helpers.
      if (!external || !PACKAGE_SPECIFIER.test(path) || builtinModules.includes(path)) continue;
      const name = packageName(path);
      if (checked.has(`${from}\0${name}`)) continue;
      checked.add(`${from}\0${name}`);
      if (packageEntryIsTypeScript(name, from)) return true;
    }
  }
  return false;
}

/** `@scope/name` or `name` of a package import such as `@scope/name/sub` or `name/sub`. */
function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

const DECLARATION_FILE = /\.d\.[cm]?ts$/;

/** Reads the package.json Node would find from `from`; an unreadable one counts as TypeScript (the safe side). */
function packageEntryIsTypeScript(name: string, from: string): boolean {
  for (let dir = from; ; dir = dirname(dir)) {
    const manifest = join(dir, 'node_modules', name, 'package.json');
    if (existsSync(manifest)) {
      try {
        const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as Record<string, unknown>;
        return [pkg.main, pkg.module, pkg.exports].some(function anyTypeScript(value: unknown): boolean {
          if (typeof value === 'string') return TYPESCRIPT_FILE.test(value) && !DECLARATION_FILE.test(value);
          // Type conditions only matter to the compiler, not to what Node loads.
          if (value && typeof value === 'object') return Object.entries(value).some(([key, v]) => key !== 'types' && key !== 'typings' && anyTypeScript(v));
          return false;
        });
      } catch {
        return true;
      }
    }
    if (dirname(dir) === dir) return true;
  }
}

/** FNV-1a, 64 bits, as 16 hex digits: a short stable name for a manifest, not a checksum. */
function fnv1a64(text: string): string {
  let hash = 0xcbf29ce484222325n;
  for (let i = 0; i < text.length; i++) hash = BigInt.asUintN(64, (hash ^ BigInt(text.charCodeAt(i))) * 0x100000001b3n);
  return hash.toString(16).padStart(16, '0');
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

/** A compiled file stays a minute after it is replaced, for workers of a run that is just starting with it. */
const KEEP_REPLACED_MS = 60_000;

function removeEarlierVersions(cacheDir: string, prefix: string, current: string): void {
  const now = Date.now();
  for (const name of readdirSync(cacheDir)) {
    const path = join(cacheDir, name);
    if (!name.startsWith(prefix) || !name.endsWith('.mjs') || path === current) continue;
    try {
      if (now - statSync(path).mtimeMs > KEEP_REPLACED_MS) unlinkSync(path);
    } catch {
      // another run removed it first
    }
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
