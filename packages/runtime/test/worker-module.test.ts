import { describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadWorkflow, simpleMapping } from '@d4/core';
import { prepareWorkerSource, withoutTsxFlags, workerExecArgv } from '../src/index.js';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

describe('prepareWorkerSource', () => {
  it('compiles a TypeScript workflow into one module that rebuilds the same graph and still finds its sibling files', async () => {
    const source = (await loadWorkflow(fixture('reads-sibling.ts'))).source!;
    const compiled = await prepareWorkerSource(source);
    expect(compiled.module).toMatch(/\/node_modules\/\.cache\/d4\/reads-sibling\.[0-9a-f]{8}\.[0-9a-f]{16}\.mjs$/);
    expect(compiled.exportName).toBe('default');
    const original = await loadWorkflow(source.module);
    const rebuilt = await loadWorkflow(compiled.module, { exportName: compiled.exportName });
    expect(rebuilt.graph.toJSON()).toEqual(original.graph.toJSON());
    expect((await simpleMapping.run(rebuilt)).outputs).toEqual({ Identity1: { output: ['hello from a sibling file'] } });
    expect(readFileSync(compiled.module, 'utf8')).not.toContain('import.meta.url');
  });

  it('reuses the compiled module while its inputs are unchanged and recompiles when one changes', async () => {
    const source = { module: fixture('factory.ts'), exportName: 'default' };
    const first = await prepareWorkerSource(source);
    expect(await prepareWorkerSource(source)).toEqual(first);
    const later = new Date(Date.now() + 5000);
    utimesSync(fixture('factory.ts'), later, later);
    const again = await prepareWorkerSource(source);
    expect(again.module).toBe(first.module); // same content, same file
    expect((await loadWorkflow(again.module, { args: { length: 2 } })).graph.pes().map((pe) => pe.id)).toEqual(['CountingProducer0', 'Identity1', 'Identity2']);
  });

  it('removes the compiled files of earlier versions of a module once they are a minute old', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'd4-versions-'));
    try {
      mkdirSync(join(dir, 'node_modules'));
      const module = join(dir, 'flow.ts');
      const compile = async (text: string) => {
        writeFileSync(module, text);
        const later = new Date(Date.now() + Math.random() * 1e6);
        utimesSync(module, later, later); // a new mtime, so the manifest is not reused
        return (await prepareWorkerSource({ module, exportName: 'default' })).module;
      };
      const cache = join(dir, 'node_modules/.cache/d4');
      const compiled = () => readdirSync(cache).filter((f) => f.endsWith('.mjs')).sort();
      const first = await compile('export default () => 1;\n');
      const second = await compile('export default () => 2;\n');
      expect(second).not.toBe(first);
      // Just replaced: kept for a run that may be starting with it.
      expect(compiled()).toHaveLength(2);
      const old = new Date(Date.now() - 120_000);
      utimesSync(first, old, old);
      const third = await compile('export default () => 3;\n');
      expect(compiled()).toEqual([third, second].map((f) => f.slice(cache.length + 1)).sort());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('leaves JavaScript modules as they are', async () => {
    const source = { module: '/somewhere/workflow.js', exportName: 'default' };
    expect(await prepareWorkerSource(source)).toBe(source);
  });

  it('leaves a module as it is when it imports a package whose entry is TypeScript (workers then load it through tsx)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'd4-ts-package-'));
    try {
      const write = (path: string, text: string) => {
        mkdirSync(join(dir, path, '..'), { recursive: true });
        writeFileSync(join(dir, path), text);
      };
      write('node_modules/ts-only/package.json', JSON.stringify({ name: 'ts-only', type: 'module', exports: { '.': { types: './index.ts', default: './index.ts' } } }));
      write('node_modules/ts-only/index.ts', 'export const greeting: string = "hi";\n');
      write('node_modules/js-typed/package.json', JSON.stringify({ name: 'js-typed', type: 'module', exports: { '.': { types: './src/index.ts', default: './dist/index.js' } } }));
      write('node_modules/js-typed/dist/index.js', 'export const n = 1;\n');
      write('uses-ts.ts', 'import { greeting } from "ts-only";\nimport { readFileSync } from "node:fs";\nexport default () => [greeting, readFileSync];\n');
      write('uses-js.ts', 'import { n } from "js-typed";\nexport default () => n;\n');
      const usesTs = { module: join(dir, 'uses-ts.ts'), exportName: 'default' };
      expect(await prepareWorkerSource(usesTs)).toEqual(usesTs);
      // Decided, not failed: the manifest records the source itself as what workers load.
      const manifests = readdirSync(join(dir, 'node_modules/.cache/d4')).filter((f) => f.startsWith('uses-ts.ts.'));
      expect(manifests.map((f) => JSON.parse(readFileSync(join(dir, 'node_modules/.cache/d4', f), 'utf8')).output)).toEqual([usesTs.module]);
      expect(await prepareWorkerSource(usesTs)).toEqual(usesTs);
      expect(workerExecArgv(usesTs)).toBeUndefined();
      // A TypeScript file named only under "types" is for the compiler: this one is compiled.
      const compiled = await prepareWorkerSource({ module: join(dir, 'uses-js.ts'), exportName: 'default' });
      expect(compiled.module).toMatch(/\/node_modules\/\.cache\/d4\/uses-js\.[0-9a-f]{8}\.[0-9a-f]{16}\.mjs$/);
      expect(workerExecArgv(compiled)).toEqual(withoutTsxFlags(process.execArgv));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('withoutTsxFlags', () => {
  it("drops tsx's loader flags in every spelling and keeps every other flag", () => {
    expect(
      withoutTsxFlags([
        '--require',
        '/repo/node_modules/.pnpm/tsx@4.23.15/node_modules/tsx/dist/preflight.cjs',
        '--import',
        'file:///repo/node_modules/.pnpm/tsx@4.23.15/node_modules/tsx/dist/loader.mjs',
        '--import=tsx',
        '--loader',
        'tsx/esm',
        '-r',
        'tsx/cjs',
        '--max-old-space-size=4096',
        '--import',
        './instrumentation.js',
        '--require=dotenv/config',
        '--enable-source-maps',
      ]),
    ).toEqual(['--max-old-space-size=4096', '--import', './instrumentation.js', '--require=dotenv/config', '--enable-source-maps']);
  });

  it('keeps packages whose names only start with tsx', () => {
    expect(withoutTsxFlags(['--import', 'tsx-helpers', '--import', '/x/node_modules/tsxkit/index.js'])).toEqual(['--import', 'tsx-helpers', '--import', '/x/node_modules/tsxkit/index.js']);
  });
});
