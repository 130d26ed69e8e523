import { describe, expect, it } from '@jest/globals';
import { fileURLToPath } from 'node:url';
import { KNOWN_MAPPINGS, loadMapping, loadWorkflow, requireWorkflowSource, simpleMapping, WorkflowGraph } from '../src/index.js';
import { coreFolder, isolatedProject, packageFolder } from './isolated-project.js';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

describe('loadWorkflow', () => {
  it('calls a factory export with JSON args and records the source', async () => {
    const loaded = await loadWorkflow(fixture('factory.ts'), { args: { length: 3 } });
    expect(loaded.graph.pes().map((pe) => pe.id)).toEqual(['CountingProducer0', 'Identity1', 'Identity2', 'Identity3']);
    expect(loaded.source).toEqual({ module: fixture('factory.ts'), exportName: 'default', args: { length: 3 } });
    expect(requireWorkflowSource(loaded, 'multi')).toBe(loaded.source);
  });

  it('asks for -a when a module exports several graphs', async () => {
    await expect(loadWorkflow(fixture('two-graphs.ts'))).rejects.toMatchObject({ code: 'D4_WORKFLOW_AMBIGUOUS', message: expect.stringContaining('(first, second); pick one with -a NAME') });
    expect((await loadWorkflow(fixture('two-graphs.ts'), { exportName: 'second' })).source?.exportName).toBe('second');
  });

  it('explains a module without a graph, a wrong export and a missing file', async () => {
    await expect(loadWorkflow(fixture('no-graph.ts'))).rejects.toMatchObject({ code: 'D4_WORKFLOW_NO_GRAPH', message: expect.stringContaining('candidates: helper') });
    await expect(loadWorkflow(fixture('no-graph.ts'), { exportName: 'answer' })).rejects.toMatchObject({ code: 'D4_WORKFLOW_NOT_A_GRAPH' });
    await expect(loadWorkflow(fixture('factory.ts'), { exportName: 'nope' })).rejects.toMatchObject({ code: 'D4_WORKFLOW_NO_EXPORT', message: expect.stringContaining('its exports are: default') });
    await expect(loadWorkflow('./missing/workflow.ts')).rejects.toMatchObject({ code: 'D4_WORKFLOW_NOT_FOUND' });
    await expect(loadWorkflow('dispel4py.examples.pipeline_test')).rejects.toThrow(/not a dotted module name/);
  });

  it('refuses inline graphs for mappings whose workers rebuild the graph', () => {
    expect(() => requireWorkflowSource(new WorkflowGraph(), 'multi')).toThrow(expect.objectContaining({ code: 'D4_WORKFLOW_NOT_A_MODULE', message: expect.stringContaining('export it from a module') }));
  });
});

describe('loadMapping', () => {
  it('finds simple and refuses unknown names', async () => {
    expect(await loadMapping('simple')).toBe(simpleMapping);
    await expect(loadMapping('nosuch')).rejects.toMatchObject({ code: 'D4_UNKNOWN_MAPPING', message: expect.stringContaining('d4-mapping-nosuch') });
  });

  it('names the package of a known backend that is not installed (a project with only @d4/core), and lists it as not installed', () => {
    // In this workspace every backend is installed (the root depends on them all).
    const project = isolatedProject({ '@d4/core': coreFolder, msgpackr: packageFolder('msgpackr', import.meta.url) });
    try {
      const script = `
        import { loadMapping, listMappings } from '@d4/core';
        const refusals = [];
        for (const name of ['multi', 'zmq_multi', 'mpi']) {
          try { await loadMapping(name); refusals.push(name + ' loaded'); }
          catch (e) { refusals.push({ code: e.code, packageName: e.packageName, message: e.message }); }
        }
        const list = (await listMappings()).map((m) => [m.name, m.installed]);
        console.log(JSON.stringify({ refusals, list }));`;
      const r = project.node(['--input-type=module', '-e', script]);
      expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
      const { refusals, list } = JSON.parse(r.stdout) as { refusals: unknown[]; list: Array<[string, boolean]> };
      const notInstalled = (name: string, pkg: string) => ({
        code: 'D4_MAPPING_NOT_INSTALLED',
        packageName: pkg,
        message: `mapping '${name}' is provided by ${pkg}, which is not installed here: run \`npm install ${pkg}\` (or \`pnpm add ${pkg}\`) in your project`,
      });
      expect(refusals).toEqual([notInstalled('multi', '@d4/mapping-multi'), notInstalled('zmq_multi', '@d4/mapping-zmq'), notInstalled('mpi', '@d4/mapping-mpi')]);
      expect(list).toEqual(Object.keys(KNOWN_MAPPINGS).map((name) => [name, name === 'simple']));
    } finally {
      project.remove();
    }
  });
});

describe('listMappings', () => {
  it('lists every known mapping with its package and whether it is installed', async () => {
    const { listMappings, KNOWN_MAPPINGS } = await import('../src/index.js');
    const list = await listMappings();
    expect(list.map((m) => m.name)).toEqual(Object.keys(KNOWN_MAPPINGS));
    expect(list.find((m) => m.name === 'simple')).toMatchObject({ installed: true, package: '@d4/core' });
    // The workspace's root depends on every backend: here each one is installed.
    expect(list.filter((m) => !m.installed)).toEqual([]);
    expect(list.find((m) => m.name === 'zmq_multi')).toMatchObject({ installed: true, package: '@d4/mapping-zmq' });
  });
});
