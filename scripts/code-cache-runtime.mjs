/**
 * Written by scripts/code-cache.mjs into a package's loader (dist/<name>.loader.js, or the
 * one entry's file): runs the
 * package's bundled code (a CommonJS-shaped "body") through node:vm with a V8 code cache.
 *
 * Why: Node 20 compiles every ES module from source at every start (the compile cache,
 * `module.enableCompileCache()`, came in Node 22.1). A warm `d4 run simple … -i 3` spent
 * ~85 M of its ~220 M instructions parsing and compiling d4's own ~330 KB of JavaScript;
 * from a code cache made after a run, V8 reads the functions' bytecode instead (the run
 * took ~170 M in all, with the stdio change of the CLI). ES modules cannot be given cached data without --experimental-vm-modules, so the
 * body is a script: the ES entry files are small stubs that re-export what it returns.
 *
 * The cache sits beside the body in dist/.code-cache/, named by the body's content hash,
 * Node's version, the CPU architecture and a hash of the flags (V8 refuses data made under
 * other flags, and two kinds of process with different flags must not take turns
 * overwriting one file). It is written once, when the process that found none exits (or
 * after 2 s, whichever is first): by then the functions that ran have bytecode, and the
 * cache holds them. It is never looked
 * for in a shared folder such as /tmp: V8 checks a cache's length and flags, not its
 * content, so whoever can write the cache can run code. Where dist/ is read-only (a global
 * install by another user) nothing is written and every start compiles as before.
 * D4_CODE_CACHE=off turns it off; D4_CODE_CACHE=report says, per bundle, what happened.
 */
import { createRequire as createRequireForCache } from 'node:module';

// Built-ins through require(), not import: an ES import of node:fs builds its module facade,
// which reads every export, the lazy stream classes too (~20 more internal modules loaded).
const nodeRequireForCache = createRequireForCache(import.meta.url);
const { mkdirSync, readFileSync, renameSync, writeFileSync } = nodeRequireForCache('node:fs');
const { basename, dirname, join } = nodeRequireForCache('node:path');
const { fileURLToPath } = nodeRequireForCache('node:url');
const { Script } = nodeRequireForCache('node:vm');

// On the body's first line, so that line numbers in stacks are the file's; columnOffset
// takes the header's width back off that line.
const PARAMETERS = ['exports', 'require', 'module', '__filename', '__dirname', '__d4ImportMetaUrl', '__d4Import'];
const HEADER = `(function (${PARAMETERS.join(', ')}) {`;

/**
 * Runs the body at `bodyUrl` (content hash `hash`, computed at build) and returns its
 * exports. `require` serves the body's static imports (built-ins, CommonJS packages, and
 * the ES packages its loader imported beforehand); `importModule` its dynamic `import()`s,
 * which the build rewrote to calls of it, resolved from the loader's folder as they were
 * from the bundle's.
 */
function runBody(bodyUrl, hash, require, importModule) {
  const file = fileURLToPath(bodyUrl);
  const source = readFileSync(file, 'utf8');
  const module = { exports: {} };
  const args = [module.exports, require, module, file, dirname(file), bodyUrl.href, importModule];
  if (inOtherRealm()) {
    // Loaded inside a vm context (jest runs each test file in one): runInThisContext would
    // make the classes in Node's main context, where the caller's `instanceof Error` fails.
    // The Function constructor of this realm compiles here; there is no cache that way.
    new Function(...PARAMETERS, `${source}\n//# sourceURL=${file}`)(...args);
    return module.exports;
  }
  const enabled = process.env.D4_CODE_CACHE !== 'off';
  // D4_CODE_CACHE=report: one line on stderr per bundle, to see whether the cache serves.
  const report = process.env.D4_CODE_CACHE === 'report' ? (what) => process.stderr.write(`d4 code cache: ${basename(file)}: ${what}\n`) : undefined;
  const cacheFile = join(dirname(file), '.code-cache', `${basename(file)}.${hash}.${process.version}.${process.arch}.${flagsKey()}.bin`);
  let cachedData;
  if (enabled) {
    try {
      cachedData = readFileSync(cacheFile);
    } catch {
      // No cache yet (or unreadable): compile from source, and write one at exit.
    }
  }
  const script = new Script(HEADER + source + '\n})', { filename: file, columnOffset: -HEADER.length, cachedData });
  script.runInThisContext()(...args);
  if (cachedData !== undefined) report?.(script.cachedDataRejected ? 'rejected by V8, compiled from source' : 'read from the cache');
  else report?.(enabled ? 'compiled from source' : 'compiled from source (D4_CODE_CACHE=off)');
  if (enabled && (cachedData === undefined || script.cachedDataRejected)) {
    let written = false;
    const write = () => {
      if (!written && writeCache(script, cacheFile)) report?.(`cache written to ${cacheFile}`);
      written = true;
    };
    process.once('exit', write);
    // A worker thread that its parent terminates never sees 'exit': a process or thread
    // still running after 2 s writes what it has compiled by then.
    setTimeout(write, 2000).unref();
  }
  return module.exports;
}

/** Whether this module runs in a realm other than Node's main context. */
function inOtherRealm() {
  return new Script('Error').runInThisContext() !== Error;
}

function writeCache(script, cacheFile) {
  try {
    const data = script.createCachedData();
    mkdirSync(dirname(cacheFile), { recursive: true });
    // Several processes (an mpi job's ranks, a pool's workers) may write at once: each
    // writes its own file and renames it over the cache, which is atomic.
    // (Threads of one process tell theirs apart by the random part: node:worker_threads'
    // threadId would load that module at every start.)
    const partial = `${cacheFile}.${process.pid}-${Math.random().toString(36).slice(2)}.partial`;
    writeFileSync(partial, data);
    renameSync(partial, cacheFile);
    return true;
  } catch {
    // A read-only install or a full disk: the next start compiles from source, as without a cache.
    return false;
  }
}

/** FNV-1a of what sets V8's flags: Node's own command-line flags and NODE_OPTIONS. */
function flagsKey() {
  const text = `${process.execArgv.join(' ')}\0${process.env.NODE_OPTIONS ?? ''}`;
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return (hash >>> 0).toString(16);
}
