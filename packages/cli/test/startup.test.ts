/**
 * What a warm `d4 run` loads (the run's start-up is most of a short run): the compiled copy
 * of a TypeScript workflow and no compiler (tsx, esbuild), and no package the run does not
 * need (other mappings, Graphviz). Modules are recorded by a module hook (fixtures/probe).
 */
import { describe, expect, test } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
