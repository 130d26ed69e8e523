import { describe, expect, it } from '@jest/globals';
import { readFileSync, utimesSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadWorkflow, prepareWorkerSource, simpleMapping } from '../src/index.js';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

describe('prepareWorkerSource', () => {
  it('compiles a TypeScript workflow into one module that rebuilds the same graph and still finds its sibling files', async () => {
    const source = (await loadWorkflow(fixture('reads-sibling.ts'))).source!;
    const compiled = await prepareWorkerSource(source);
    expect(compiled.module).toMatch(/\/node_modules\/\.cache\/d4\/reads-sibling\.[0-9a-f]{16}\.mjs$/);
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

  it('leaves JavaScript modules as they are', async () => {
    const source = { module: '/somewhere/workflow.js', exportName: 'default' };
    expect(await prepareWorkerSource(source)).toBe(source);
  });
});
