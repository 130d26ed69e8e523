import { describe, expect, it } from '@jest/globals';
import { GenericPE, IterativePE, PEError, ProducerPE, WorkflowGraph, simpleMapping, type PEInputs, type PEOutputs } from '../src/index.js';
import { asyncPipeline, burstRoot, chainComposite, CountingProducer, Identity, pipeline, splitMerge, teeCopy, unconnectedPort } from '../src/conformance/graphs.js';

describe('simple mapping', () => {
  it('returns unconnected outputs by PE id and port', async () => {
    expect((await simpleMapping.run(pipeline(), { '*': 3 })).outputs).toEqual({ Identity5: { output: [1, 2, 3] } });
    expect((await simpleMapping.run(teeCopy(), { '*': 3 })).outputs).toEqual({ Identity1: { output: [1, 2, 3] }, Identity2: { output: [1, 2, 3] } });
    expect((await simpleMapping.run(chainComposite(), { '*': 2 })).outputs).toEqual({ isOdd3: { output: [false, true] } });
    expect((await simpleMapping.run(unconnectedPort(), { '*': 4 })).outputs).toEqual({ EvenOdd1: { odd: [1, 3] }, Identity2: { output: [2, 4] } });
  });

  it('delivers merged inputs one port per call', async () => {
    const result = await simpleMapping.run(splitMerge(), { '*': 3 });
    expect([...(result.outputs.Concat3.output as string[])].sort()).toEqual(['1', '1', '2', '2', '3', '3']);
  });

  it('runs async PEs and a root without input once', async () => {
    expect((await simpleMapping.run(asyncPipeline(), { '*': 3 })).outputs).toEqual({ Identity2: { output: [2, 4, 6] } });
    expect((await simpleMapping.run(burstRoot())).counts).toEqual({ Identity2: { output: 25 } });
  });

  it('counts instead of keeping with collect: count, and streams outputs to onOutput', async () => {
    const seen: unknown[] = [];
    const result = await simpleMapping.run(pipeline(), { '*': 5 }, { collect: 'count', onOutput: (_pe, _port, v) => seen.push(v) });
    expect(result.outputs).toEqual({});
    expect(result.counts).toEqual({ Identity5: { output: 5 } });
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    expect(result.stats.pes.Identity3).toMatchObject({ instances: 1, calls: 5, writes: 5 });
  });

  it('estimates process() time from sampled calls without scaling short runs', async () => {
    // A clock that moves 1 ms per reading: every timed process() call measures exactly 1 ms,
    // so the estimate for each PE must equal its number of calls, sampled (1000) or not (3).
    let clock = 0;
    const realNow = performance.now;
    performance.now = () => ++clock;
    try {
      for (const items of [3, 1000]) {
        const pes = (await simpleMapping.run(pipeline(), { '*': items }, { collect: 'count' })).stats.pes;
        expect(Object.keys(pes).sort()).toEqual(['CountingProducer0', 'Identity1', 'Identity2', 'Identity3', 'Identity4', 'Identity5']);
        for (const [id, stats] of Object.entries(pes)) expect([id, stats.calls, stats.processMs]).toEqual([id, items, items]);
      }
    } finally {
      performance.now = realNow;
    }
  });

  it('samples process() time at random gaps, so a cost that comes back on a fixed rhythm is not taken for every call', async () => {
    // Every 256th call costs 2 ms, the others 1 ms, on a clock only the PE moves: a fixed
    // stride of 256 timed exactly those calls and reported ~2 ms a call; the truth is ~1.004.
    let clock = 0;
    const realNow = performance.now;
    performance.now = () => clock;
    class Rhythmic extends IterativePE {
      private calls = 0;
      constructor() {
        super('Rhythmic');
      }
      _process(value: number): number {
        this.calls += 1;
        clock += this.calls % 256 === 16 ? 2 : 1;
        return value;
      }
    }
    try {
      const graph = new WorkflowGraph();
      graph.connect(new CountingProducer(), 'output', new Rhythmic(), 'input');
      const items = 50_000;
      const stats = (await simpleMapping.run(graph, { '*': items }, { collect: 'count' })).stats.pes.Rhythmic1!;
      const truth = items + Math.floor((items - 16) / 256) + 1;
      expect(stats.calls).toBe(items);
      expect(stats.processMs).toBeGreaterThanOrEqual(items);
      expect(stats.processMs).toBeLessThan(truth * 1.25);
    } finally {
      performance.now = realNow;
    }
  });

  it('calls preprocess before and postprocess after, delivering what they write', async () => {
    const events: string[] = [];
    class Totals extends GenericPE {
      private total = 0;
      constructor() {
        super('Totals');
        this.addInput('input').addOutput('output');
      }
      override preprocess(): void {
        events.push('pre');
        this.write('output', 'start');
      }
      process(inputs: PEInputs): PEOutputs {
        events.push('process');
        this.total += inputs.input as number;
      }
      override async postprocess(): Promise<void> {
        await Promise.resolve();
        events.push('post');
        this.write('output', this.total);
      }
    }
    const graph = new WorkflowGraph();
    const last = new Identity();
    graph.connect(new CountingProducer(), 'output', new Totals(), 'input');
    graph.connect(graph.pes()[1], 'output', last, 'input');
    const result = await simpleMapping.run(graph, { '*': 4 });
    expect(result.outputs).toEqual({ Identity2: { output: ['start', 10] } });
    expect(events).toEqual(['pre', 'process', 'process', 'process', 'process', 'post']);
  });

  it('fails with the PE id, the item and the cause when a PE throws', async () => {
    class Fails extends IterativePE {
      _process(data: number): number {
        if (data === 3) throw new Error('three is bad');
        return data;
      }
    }
    const graph = new WorkflowGraph();
    graph.connect(new CountingProducer(), 'output', new Fails(), 'input');
    const error = await simpleMapping.run(graph, { '*': 5 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PEError);
    expect(error).toMatchObject({ code: 'D4_PE_FAILED', peId: 'Fails1', item: { input: 3 } });
    expect((error as Error).message).toBe('PE Fails1 failed while processing {"input":3}: three is bad');
    expect((error as PEError).peStack).toContain('three is bad');
  });

  it('fails when an async PE rejects', async () => {
    class Rejects extends IterativePE {
      async _process(): Promise<never> {
        throw new Error('async boom');
      }
    }
    const graph = new WorkflowGraph();
    graph.connect(new CountingProducer(), 'output', new Rejects(), 'input');
    await expect(simpleMapping.run(graph, { '*': 1 })).rejects.toMatchObject({ code: 'D4_PE_FAILED', peId: 'Rejects1' });
  });

  it('refuses writes to undeclared ports', async () => {
    class Wrong extends ProducerPE {
      _process(): void {
        this.write('outptu', 1);
      }
    }
    await expect(simpleMapping.run(new WorkflowGraph().add(new Wrong()) && graphOf(new Wrong()))).rejects.toThrow(
      "PE Wrong0 failed while processing {}: wrote to port 'outptu', which it does not declare; its outputs are: output",
    );
  });

  it('names the item whose call wrote to an undeclared port, and the lifecycle method that did', async () => {
    class Misnamed extends IterativePE {
      _process(data: number): void {
        this.write('outptu', data);
      }
    }
    const graph = new WorkflowGraph();
    graph.connect(new CountingProducer(), 'output', new Misnamed(), 'input');
    const error = await simpleMapping.run(graph, { '*': 3 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'D4_PE_FAILED', peId: 'Misnamed1', phase: 'process', item: { input: 1 } });
    expect((error as Error).message).toBe("PE Misnamed1 failed while processing {\"input\":1}: wrote to port 'outptu', which it does not declare; its outputs are: output");

    class WritesEarly extends IterativePE {
      override preprocess(): void {
        this.write('outptu', 0);
      }
      _process(data: number): number {
        return data;
      }
    }
    const early = new WorkflowGraph();
    early.connect(new CountingProducer(), 'output', new WritesEarly(), 'input');
    await expect(simpleMapping.run(early, { '*': 1 })).rejects.toMatchObject({
      phase: 'preprocess',
      message: "PE WritesEarly1 failed in preprocess(): wrote to port 'outptu', which it does not declare; its outputs are: output",
    });
  });

  it('sends log lines to the log function with PE id and instance', async () => {
    class Talks extends IterativePE {
      _process(data: number): number {
        this.log(`got ${data}`);
        return data;
      }
    }
    const lines: string[] = [];
    const graph = new WorkflowGraph();
    graph.connect(new CountingProducer(), 'output', new Talks(), 'input');
    await simpleMapping.run(graph, { '*': 2 }, { log: (pe, i, m) => lines.push(`${pe}/${i}: ${m}`) });
    expect(lines).toEqual(['Talks1/0: got 1', 'Talks1/0: got 2']);
  });

  it('aborts when the signal fires', async () => {
    const controller = new AbortController();
    controller.abort('stop');
    await expect(simpleMapping.run(pipeline(), { '*': 3 }, { signal: controller.signal })).rejects.toMatchObject({ code: 'D4_ABORTED' });
  });
});

function graphOf(pe: GenericPE): WorkflowGraph {
  const graph = new WorkflowGraph();
  graph.add(pe);
  return graph;
}
