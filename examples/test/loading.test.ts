import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadWorkflow, rebuildWorkflow, simpleMapping } from '@d4/core';

// Workers rebuild graphs by loading the module the driver loaded, so every example must
// load by path (from the repository root, as the CLI is run) and give the same PE ids.
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const helpers = new Set(['testing_pes.ts', 'random.ts', 'args.ts', 'monitoring.ts']);
const workflows = readdirSync(new URL('../graph_testing/', import.meta.url))
  .filter((file) => file.endsWith('.ts') && !helpers.has(file))
  .sort();
const load = (file: string, options: { exportName?: string; args?: unknown } = {}) => loadWorkflow(`examples/graph_testing/${file}`, { cwd: repoRoot, ...options });

describe('loading the graph_testing modules by path', () => {
  it('finds every workflow of the set', () => {
    expect(workflows).toEqual(
      [
        'aggregates',
        'delayed_pipeline',
        'group_by',
        'group_by_stateful',
        'grouping_alltoone',
        'grouping_alltoone_stateful',
        'grouping_onetoall',
        'grouping_onetoall_stateful',
        'grouping_split_merge',
        'large_teecopy',
        'loopcopy',
        'multi_producer',
        'parallel_pipeline',
        'partition_parallel_pipeline',
        'pipeline_composite',
        'pipeline_test',
        'producer_tee',
        'sieveoferatosthenes',
        'split_merge',
        'teecopy',
        'test_exceptions',
        'uncaught_exception_test',
        'unconnected_pipeline',
        'word_count',
        'word_count_filter',
      ].map((name) => `${name}.ts`),
    );
  });

  it.each(workflows)('%s: the default export is a valid graph', async (file) => {
    const loaded = await load(file);
    expect(loaded.source).toMatchObject({ exportName: 'default' });
    expect(() => loaded.graph.validate()).not.toThrow();
  });

  it('another process rebuilds every graph with the same ids, ports, groupings and partitions', async () => {
    // What a worker does: a fresh Node process (no jest) loads each module by path.
    const script = `
      import { loadWorkflow } from '@d4/core';
      const graphs = {};
      for (const file of JSON.parse(process.argv[1])) graphs[file] = (await loadWorkflow('examples/graph_testing/' + file, { cwd: process.argv[2] })).graph.toJSON();
      process.stdout.write(JSON.stringify(graphs));`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script, JSON.stringify(workflows), repoRoot], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      encoding: 'utf8',
    });
    expect(child.stderr).toBe('');
    expect(child.status).toBe(0);
    const rebuilt = JSON.parse(child.stdout) as Record<string, unknown>;
    for (const file of workflows) expect([file, rebuilt[file]]).toEqual([file, JSON.parse(JSON.stringify((await load(file)).graph.toJSON()))]);
  });

  it('runs a loaded module on simple', async () => {
    const loaded = await load('pipeline_test.ts');
    expect((await simpleMapping.run(loaded, { '*': 3 })).outputs).toEqual({ TestOneInOneOut5: { output: [1, 2, 3] } });
  });

  it('picks an aggregate graph by export name, and builds factories from JSON arguments', async () => {
    const avg = await load('aggregates.ts', { exportName: 'avg' });
    expect((await simpleMapping.run(avg)).outputs).toEqual({ AverageReducePE2: { output: [499.5] } });
    const sum = await load('aggregates.ts', { exportName: 'sumGraph', args: { start: 1, limit: 101 } });
    expect(sum.source).toMatchObject({ exportName: 'sumGraph', args: { start: 1, limit: 101 } });
    expect((await simpleMapping.run(sum)).outputs).toEqual({ SumPE2: { output: [5050] } });
    const seeded = await load('word_count.ts', { exportName: 'wordCount', args: { seed: 7 } });
    const again = await rebuildWorkflow(seeded.source!);
    expect((await simpleMapping.run(again, { '*': 30 })).outputs).toEqual((await simpleMapping.run(seeded, { '*': 30 })).outputs);
  });

  it('refuses a bad factory argument before any run, naming the argument', async () => {
    await expect(load('word_count.ts', { exportName: 'wordCount', args: { seed: 'seven' } })).rejects.toMatchObject({
      code: 'D4_WORKFLOW_FACTORY',
      message: expect.stringContaining(`workflow argument 'seed' must be a whole number, got "seven"`),
    });
    await expect(load('large_teecopy.ts', { exportName: 'largeTeecopy', args: [3] })).rejects.toMatchObject({
      message: expect.stringContaining('must be a JSON object such as {"numIterations": 10}'),
    });
  });

  it('draws pipeline_composite with the chain as a cluster', async () => {
    const dot = (await load('pipeline_composite.ts')).graph.toDot();
    const cluster = /subgraph cluster_0 \{\n([\s\S]*?)\n  \}/.exec(dot);
    expect(cluster).not.toBeNull();
    expect(cluster![1]).toContain('label="IterativeChain0"');
    for (const id of ['PE_addTwo1', 'PE_multiplyByFour2', 'PE_divideByTwo3', 'PE_subtract4']) expect(cluster![1]).toContain(`"${id}"`);
    expect(cluster![1]).not.toContain('TestProducer0');
    expect(dot).toContain('"TestProducer0" -> "PE_addTwo1"');
    expect(dot).toContain('"PE_divideByTwo3" -> "PE_subtract4"');
  });
});
