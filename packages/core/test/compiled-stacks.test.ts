import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

// Stacks through a workflow compiled for workers (a module under node_modules/.cache/d4/
// with an inline source map, as @d4/runtime writes it) name the .ts file and line; the map
// is read only when such a stack is formatted (src/compiled-stacks.ts).
const source = fileURLToPath(new URL('./fixtures/stacks/throws.ts', import.meta.url));
const child = fileURLToPath(new URL('./fixtures/stacks/run-compiled.mjs', import.meta.url));
const coreDist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
let dir: string;
let compiled: string;

beforeAll(async () => {
  dir = mkdtempSync(join(fileURLToPath(new URL('.', import.meta.url)), 'tmp-stacks-'));
  compiled = join(dir, 'node_modules', '.cache', 'd4', 'throws.mjs');
  mkdirSync(join(dir, 'node_modules', '.cache', 'd4'), { recursive: true });
  // As the runtime compiles: ESM, an inline map without sourcesContent, @d4/core external
  // (here core's built file by URL, since the temporary folder cannot resolve the package).
  await build({
    entryPoints: [source], outfile: compiled, bundle: true, format: 'esm', platform: 'node', sourcemap: 'inline', sourcesContent: false, keepNames: true, logLevel: 'silent',
    alias: { '@d4/core': pathToFileURL(coreDist).href }, external: [pathToFileURL(coreDist).href],
  });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runChild(extra: string[] = []): { code: string; peStack: string; later: string; sourceMapsEnabled: boolean } {
  const r = spawnSync(process.execPath, [child, pathToFileURL(coreDist).href, compiled, ...extra], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`child failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout);
}

describe('stacks through a compiled workflow', () => {
  it("name the user's .ts file, line and column, and not the compiled copy, without Node's source maps on", () => {
    const out = runChild();
    expect(out.code).toBe('D4_PE_FAILED');
    expect(out.peStack.split('\n').slice(0, 2)).toEqual(['Error: no 1', `    at Breaks._process (${source}:7:26)`]);
    expect(out.peStack).not.toContain('.cache/d4');
    // Frames elsewhere are Node's own text.
    expect(out.later).toMatch(/^ {4}at file:\/\/.*run-compiled\.mjs:\d+:\d+$/);
    expect(out.sourceMapsEnabled).toBe(false);
  });

  it("leave a stack hook of the user's own in place (and let Node's source maps do the mapping)", () => {
    const out = runChild(['--own-hook']);
    expect(out.peStack).toBe('OWN no 1 true');
    expect(out.sourceMapsEnabled).toBe(true);
  });
});
