import { describe, expect, it } from '@jest/globals';
import { fileURLToPath } from 'node:url';
import { loadMapping, loadWorkflow, requireWorkflowSource, simpleMapping, WorkflowGraph } from '../src/index.js';

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
  it('finds simple, names the package for a backend that is not installed, and refuses unknown names', async () => {
    expect(await loadMapping('simple')).toBe(simpleMapping);
    await expect(loadMapping('mpi')).rejects.toMatchObject({ code: 'D4_MAPPING_NOT_INSTALLED', packageName: '@d4/mapping-mpi', message: expect.stringContaining('npm install @d4/mapping-mpi') });
    await expect(loadMapping('nosuch')).rejects.toMatchObject({ code: 'D4_UNKNOWN_MAPPING', message: expect.stringContaining('d4-mapping-nosuch') });
  });
});

describe('listMappings', () => {
  it('lists every known mapping with its package and whether it is installed', async () => {
    const { listMappings, KNOWN_MAPPINGS } = await import('../src/index.js');
    const list = await listMappings();
    expect(list.map((m) => m.name)).toEqual(Object.keys(KNOWN_MAPPINGS));
    expect(list.find((m) => m.name === 'simple')).toMatchObject({ installed: true, package: '@d4/core' });
    expect(list.find((m) => m.name === 'mpi')).toMatchObject({ installed: false, package: '@d4/mapping-mpi' });
    expect(list.find((m) => m.name === 'zmq_multi')).toMatchObject({ installed: true, package: '@d4/mapping-zmq' });
  });
});
