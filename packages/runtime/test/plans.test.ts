import { describe, expect, it } from '@jest/globals';
import { WorkflowGraph, resolveInputs } from '@d4/core';
import { CountingProducer, Identity, pipeline, splitMerge, wordCount } from '@d4/core/conformance/graphs';
import { dynamicPlan, instancePlan, partitionPlan, placementPlan } from '../src/index.js';

const ready = (graph: WorkflowGraph) => graph.flatten().validate();

describe('fixed plans', () => {
  it("give dispel4py's process assignment: the source one instance, the rest a share (⌊(n − sources) / others⌋)", () => {
    const graph = ready(pipeline());
    const plan = instancePlan(graph, 11, resolveInputs(graph, { '*': 5 }));
    expect(plan.peIds).toEqual(['CountingProducer0', 'Identity1', 'Identity2', 'Identity3', 'Identity4', 'Identity5']);
    expect(plan.numInstances).toEqual({ CountingProducer0: 1, Identity1: 2, Identity2: 2, Identity3: 2, Identity4: 2, Identity5: 2 });
    expect(plan.processes.Identity1).toEqual([1, 2]);
    expect(plan.units).toHaveLength(11);
    // The root's feed goes to its one instance only.
    expect(plan.units[0].feeds).toEqual([{ peId: 'CountingProducer0', count: 5 }]);
    expect(plan.units.slice(1).every((u) => u.feeds.length === 0)).toBe(true);
  });

  it('partitioned: roots | the rest by default; a PE in two partitions and partitions in a cycle are refused', () => {
    const graph = ready(splitMerge());
    const plan = partitionPlan(graph, 2, resolveInputs(graph, {}));
    expect(plan.units.map((u) => u.peIds)).toEqual([['CountingProducer0'], ['Identity1', 'Identity2', 'Concat3']]);
    expect(plan.partitioned).toBe(true);

    const twice = new WorkflowGraph();
    const a = new CountingProducer();
    const b = new Identity();
    twice.connect(a, 'output', b, 'input');
    twice.partitions = [[a, b], [b]];
    expect(() => partitionPlan(twice.flatten().validate(), 4, [])).toThrow(expect.objectContaining({ code: 'D4_PARTITION', message: expect.stringContaining('PE Identity1 is in partitions 0 and 1') }));

    const cyclic = new WorkflowGraph();
    const [p, x, y, z] = [new CountingProducer(), new Identity(), new Identity(), new Identity()];
    cyclic.connect(p, 'output', x, 'input');
    cyclic.connect(x, 'output', y, 'input');
    cyclic.connect(y, 'output', z, 'input');
    cyclic.partitions = [[p, x, z], [y]];
    expect(() => partitionPlan(cyclic.flatten().validate(), 4, [])).toThrow(expect.objectContaining({ code: 'D4_PARTITION_CYCLE' }));
  });
});

describe('the dynamic plan', () => {
  it('numbers root targets first (a root call takes its whole inputs), then every connected input, and the result ports', () => {
    const plan = dynamicPlan(ready(splitMerge()));
    expect(plan.targets).toEqual([
      { peId: 'CountingProducer0', port: null },
      { peId: 'Identity1', port: 'input' },
      { peId: 'Identity2', port: 'input' },
      { peId: 'Concat3', port: 'input0' },
      { peId: 'Concat3', port: 'input1' },
    ]);
    expect(plan.rootTargets).toEqual({ CountingProducer0: 0 });
    expect(plan.results).toEqual([{ peId: 'Concat3', port: 'output' }]);
  });
});

describe('placement plans (roots in the driver)', () => {
  it('fixed pins every other PE with the fixed assignment; dynamic shares them; hybrid pins only the stateful ones', () => {
    const graph = ready(wordCount());
    const fixed = placementPlan(graph, 'fixed', 5, 'redis');
    expect(fixed.pes.map((p) => [p.id, p.mode, p.units])).toEqual([
      ['WordProducer0', 'root', []],
      ['Identity1', 'pinned', [0, 1]],
      ['WordCounter2', 'pinned', [2, 3]],
    ]);
    expect(fixed.units).toEqual([{ pe: 1, instance: 0 }, { pe: 1, instance: 1 }, { pe: 2, instance: 0 }, { pe: 2, instance: 1 }]);
    expect(placementPlan(graph, 'dynamic', 5, 'dyn_redis').pes.map((p) => p.mode)).toEqual(['root', 'shared', 'shared']);
    const hybrid = placementPlan(graph, 'hybrid', 5, 'hybrid_redis');
    expect(hybrid.pes.map((p) => p.mode)).toEqual(['root', 'shared', 'pinned']);
    expect(hybrid.pes[2].preds).toEqual([1]);
    expect(hybrid.pes[0].succs).toEqual([1]);
  });

  it('hybrid refuses more pinned instances than workers, naming them and the -n to use', () => {
    const graph = ready(wordCount());
    graph.pes()[2].numprocesses = 3;
    expect(() => placementPlan(graph, 'hybrid', 2, 'hybrid_redis')).toThrow(expect.objectContaining({ code: 'D4_TOO_FEW_PROCESSES', required: 3, message: expect.stringContaining('WordCounter2 ×3') }));
  });
});
