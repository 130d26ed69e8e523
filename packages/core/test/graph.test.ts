import { describe, expect, it } from '@jest/globals';
import { CompositePE, GraphError, WorkflowGraph, createIterativeChain } from '../src/index.js';
import { Concat, CountingProducer, Identity, splitMerge } from '../src/conformance/graphs.js';

describe('WorkflowGraph', () => {
  it('gives ids as name plus join order', () => {
    const graph = new WorkflowGraph();
    const prod = new CountingProducer();
    const a = new Identity();
    const b = new Identity();
    graph.connect(prod, 'output', a, 'input');
    graph.connect(a, 'output', b, 'input');
    expect(graph.pes().map((pe) => pe.id)).toEqual(['CountingProducer0', 'Identity1', 'Identity2']);
    expect(graph.roots().map((pe) => pe.id)).toEqual(['CountingProducer0']);
    expect(graph.sinks().map((pe) => pe.id)).toEqual(['Identity2']);
  });

  it('refuses unknown ports with the ports that exist', () => {
    const graph = new WorkflowGraph();
    expect(() => graph.connect(new CountingProducer(), 'out', new Identity(), 'input')).toThrow(
      expect.objectContaining({ code: 'D4_GRAPH_UNKNOWN_PORT', message: expect.stringContaining("has no output port 'out'; its outputs are: output") }),
    );
    expect(() => graph.connect(new CountingProducer(), 'output', new Concat(), 'input')).toThrow(/its inputs are: input0, input1/);
  });

  it('refuses cycles naming the PEs on it', () => {
    const graph = new WorkflowGraph();
    const a = new Identity();
    const b = new Identity();
    graph.connect(new CountingProducer(), 'output', a, 'input');
    graph.connect(a, 'output', b, 'input');
    graph.connect(b, 'output', a, 'input');
    expect(() => graph.validate()).toThrow(expect.objectContaining({ code: 'D4_GRAPH_CYCLE', message: expect.stringContaining('Identity1 -> Identity2 -> Identity1') }));
  });

  it('refuses an empty graph', () => {
    expect(() => new WorkflowGraph().validate()).toThrow(GraphError);
  });

  it('keeps both edges when the same pair is connected twice', () => {
    const graph = new WorkflowGraph();
    const prod = new CountingProducer();
    const sink = new Identity();
    graph.connect(prod, 'output', sink, 'input');
    graph.connect(prod, 'output', sink, 'input');
    expect(graph.peEdges()).toHaveLength(2);
  });

  it('resolves nested composites and flattens them', () => {
    const inner = new CompositePE('Inner');
    const x = new Identity();
    const y = new Identity();
    inner.connect(x, 'output', y, 'input');
    inner.mapInput('in', x, 'input');
    inner.mapOutput('out', y, 'output');
    const outer = new CompositePE('Outer');
    outer.add(inner);
    outer.mapInput('comp_input', inner, 'in');
    outer.mapOutput('comp_output', inner, 'out');
    const graph = new WorkflowGraph();
    const prod = new CountingProducer();
    const last = new Identity();
    graph.connect(prod, 'output', outer, 'comp_input');
    graph.connect(outer, 'comp_output', last, 'input');
    const flat = graph.flatten();
    expect(flat.nodes.every((n) => !(n instanceof CompositePE))).toBe(true);
    expect(flat.pes().map((pe) => pe.id)).toEqual(['CountingProducer0', 'Identity1', 'Identity2', 'Identity3']);
    expect(flat.peEdges().map((e) => `${e.from.id}.${e.fromPort}->${e.to.id}.${e.toPort}`)).toEqual([
      'Identity1.output->Identity2.input',
      'CountingProducer0.output->Identity1.input',
      'Identity2.output->Identity3.input',
    ]);
    expect(() => graph.connect(outer, 'nope', new Identity(), 'input')).toThrow(/composite Outer has no output port 'nope'; its outputs are: comp_output/);
  });

  it('draws composites as clusters and exports JSON', () => {
    const graph = new WorkflowGraph();
    graph.connect(new CountingProducer(), 'output', createIterativeChain([(a: number) => a + 1]), 'input');
    const dot = graph.toDot();
    expect(dot).toContain('subgraph cluster_0 {');
    expect(dot).toContain('label="IterativeChain0";');
    expect(dot).toContain('"CountingProducer0" -> "fn1"');
    const json = splitMerge().toJSON();
    expect(json.roots).toEqual(['CountingProducer0']);
    expect(json.sinks).toEqual(['Concat3']);
    expect(json.edges).toContainEqual({ from: 'Identity2', fromPort: 'output', to: 'Concat3', toPort: 'input1' });
  });

  it('refuses invalid groupings', () => {
    expect(() => new Identity().setGrouping('input', [] as string[])).toThrow(/grouping \[\] is not valid/);
    expect(() => new Identity().setGrouping('nope', 'global')).toThrow(/has no input 'nope'/);
  });
});
