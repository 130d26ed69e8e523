/**
 * What a warm `d4 run` loads (the run's start-up is most of a short run): the compiled copy
 * of a TypeScript workflow and no compiler (tsx, esbuild), and no package the run does not
 * need (other mappings, Graphviz). Modules are recorded by a module hook (fixtures/probe).
 */
import { describe, expect, test } from '@jest/globals';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { binPath, fixtures } from './helpers.js';
import { spawnSync } from 'node:child_process';

const probe = fileURLToPath(new URL('./fixtures/probe/register.mjs', import.meta.url));

/** Runs the d4 bin with the probe and returns the URLs of the modules it loaded (not Node's own). */
function loadedBy(args: string[]): { status: number | null; stderr: string; urls: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'd4-probe-'));
  try {
    const log = join(dir, 'loaded.txt');
    const r = spawnSync(process.execPath, ['--import', probe, binPath, ...args], { cwd: fixtures, encoding: 'utf8', env: { ...process.env, D4_PROBE_LOG: log } });
    let urls: string[] = [];
    try {
      urls = readFileSync(log, 'utf8').trim().split('\n').filter((url) => !url.startsWith('node:'));
    } catch {
      // nothing loaded
    }
    return { status: r.status, stderr: r.stderr, urls };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('a warm d4 run', () => {
  for (const mapping of ['simple', 'multi']) {
    test(`on ${mapping}, a .ts workflow: its compiled copy, no tsx or esbuild, no other mapping or Graphviz`, () => {
      const warmUp = spawnSync(process.execPath, [binPath, 'run', mapping, 'squares.ts', '-i', '2'], { cwd: fixtures, encoding: 'utf8' });
      expect({ status: warmUp.status, stdout: warmUp.stdout }).toEqual({ status: 0, stdout: 'Outputs:\n  Square1.output: [1, 4]\n' });
      const { status, stderr, urls } = loadedBy(['run', mapping, 'squares.ts', '-i', '2', '--results', 'none']);
      expect({ status, stderr }).toEqual({ status: 0, stderr: '' });
      // The driver and (on multi) each worker thread import the same compiled file.
      const compiled = urls.filter((url) => /\/node_modules\/\.cache\/d4\/squares\.[^/]+\.mjs$/.test(url));
      expect(compiled.length).toBeGreaterThan(0);
      expect(new Set(compiled).size).toBe(1);
      expect(urls.filter((url) => url.endsWith('/squares.ts'))).toEqual([]);
      expect(urls.filter((url) => /\/(tsx|esbuild|@viz-js)\//.test(url))).toEqual([]);
      const mappings = urls.filter((url) => /\/mapping-(multi|redis)\//.test(url));
      // Only the compile entry of the runtime (a cache lookup), not all of it; multi needs all.
      const runtimeMain = urls.filter((url) => /\/runtime\/dist\/index\.js$/.test(url));
      expect(runtimeMain.length).toBe(mapping === 'simple' ? 0 : 1);
      if (mapping === 'simple') expect(mappings).toEqual([]);
      else expect(mappings.every((url) => url.includes('/mapping-multi/'))).toBe(true);
    });
  }
});

describe('a short d4 run that writes nothing', () => {
  test('makes neither process.stdout nor process.stderr: no stream, net or tty module is loaded', () => {
    const dir = mkdtempSync(join(tmpdir(), 'd4-probe-'));
    try {
      const log = join(dir, 'builtins.txt');
      const probeFile = fileURLToPath(new URL('./fixtures/probe/builtins.cjs', import.meta.url));
      const r = spawnSync(process.execPath, ['--require', probeFile, binPath, 'run', 'simple', 'squares.ts', '-i', '2', '--results', 'none'], { cwd: fixtures, encoding: 'utf8', env: { ...process.env, D4_PROBE_LOG: log } });
      expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ status: 0, stdout: '', stderr: '' });
      const builtins = readFileSync(log, 'utf8').split('\n');
      expect(builtins).toContain('vm');
      expect(builtins.filter((name) => ['stream', 'net', 'tty'].includes(name))).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("d4's code cache (scripts/code-cache.mjs)", () => {
  // A V8 flag of its own gives each test cache files no other run reads or writes (the
  // cache is keyed by Node's flags); the files it made are removed after it.
  const uniqueFlag = () => `--stack-size=${1000 + Math.floor(Math.random() * 100000)}`;
  const run = (flag: string, env: Record<string, string>) =>
    spawnSync(process.execPath, [flag, binPath, 'run', 'simple', 'squares.ts', '-i', '3'], { cwd: fixtures, encoding: 'utf8', env: { ...process.env, ...env } });
  const reports = (stderr: string) => stderr.split('\n').filter((line) => line.startsWith('d4 code cache: ')).map((line) => line.replace(/ to \/.*$/, ' to …'));
  const cacheFolders = ['cli', 'core', 'runtime'].map((dist) => fileURLToPath(new URL(`../../${dist}/dist/.code-cache/`, import.meta.url)));
  const cacheFiles = () => new Set(cacheFolders.flatMap((folder) => safeList(folder).map((name) => join(folder, name))));
  function madeDuring(body: () => void): string[] {
    const before = cacheFiles();
    let made: string[] = [];
    try {
      body();
    } finally {
      made = [...cacheFiles()].filter((file) => !before.has(file));
      for (const file of made) rmSync(file, { force: true });
    }
    return made;
  }

  test('the first run compiles and writes the cache at exit, the next reads it; the output is the same', () => {
    const flag = uniqueFlag();
    const made = madeDuring(() => {
      const first = run(flag, { D4_CODE_CACHE: 'report' });
      expect({ status: first.status, stdout: first.stdout }).toEqual({ status: 0, stdout: 'Outputs:\n  Square1.output: [1, 4, 9]\n' });
      expect(reports(first.stderr).sort()).toEqual([
        'd4 code cache: cli.body.cjs: cache written to …',
        'd4 code cache: cli.body.cjs: compiled from source',
        'd4 code cache: core.body.cjs: cache written to …',
        'd4 code cache: core.body.cjs: compiled from source',
        // The lookup of the .ts workflow's compiled copy.
        'd4 code cache: runtime-compile.body.cjs: cache written to …',
        'd4 code cache: runtime-compile.body.cjs: compiled from source',
      ]);
      const second = run(flag, { D4_CODE_CACHE: 'report' });
      expect({ status: second.status, stdout: second.stdout }).toEqual({ status: 0, stdout: first.stdout });
      expect(reports(second.stderr).sort()).toEqual([
        'd4 code cache: cli.body.cjs: read from the cache',
        'd4 code cache: core.body.cjs: read from the cache',
        'd4 code cache: runtime-compile.body.cjs: read from the cache',
      ]);
    });
    expect(made).toHaveLength(3);
  });

  test('D4_CODE_CACHE=off compiles from source and writes nothing', () => {
    const made = madeDuring(() => {
      const off = run(uniqueFlag(), { D4_CODE_CACHE: 'off' });
      expect({ status: off.status, stdout: off.stdout, stderr: off.stderr }).toEqual({ status: 0, stdout: 'Outputs:\n  Square1.output: [1, 4, 9]\n', stderr: '' });
    });
    expect(made).toEqual([]);
  });

  test("a package's entries share one copy of its code, and @d4/runtime re-exports core's own classes", async () => {
    const core = await import('@d4/core');
    const internal = await import('@d4/core/internal');
    const runtime = await import('@d4/runtime');
    expect(runtime.LocalEngine).toBe(internal.LocalEngine);
    expect(runtime.portKey).toBe(internal.portKey);
    // core's two entries, one copy: an error made by the internal entry is the index's class.
    expect(internal.abortError(AbortSignal.abort('stop')) instanceof core.D4Error).toBe(true);
  });
});

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
