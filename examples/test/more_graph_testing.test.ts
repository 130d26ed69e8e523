import { describe, expect, it } from '@jest/globals';
import { WorkflowGraph, simpleMapping } from '@d4/core';
import { multiProducer } from '../graph_testing/multi_producer.js';
import { loopcopy } from '../graph_testing/loopcopy.js';
import { sieve } from '../graph_testing/sieveoferatosthenes.js';
import { UndefinedOutput, testExceptions } from '../graph_testing/test_exceptions.js';
import { uncaughtExceptionTest } from '../graph_testing/uncaught_exception_test.js';
import { TestProducer } from '../graph_testing/testing_pes.js';

/** Primes below `limit` by trial division, independent of the workflow. */
function primesBelow(limit: number): number[] {
  const primes: number[] = [];
  for (let n = 2; n < limit; n++) if (primes.every((p) => n % p !== 0)) primes.push(n);
  return primes;
}

describe('the rest of dispel4py graph_testing on simple', () => {
  it('multi_producer: ten items per producer call', async () => {
    const tens = Array.from({ length: 10 }, (_, i) => i);
    expect((await simpleMapping.run(multiProducer(), { '*': 2 })).outputs).toEqual({ TestOneInOneOut2: { output: [...tens, ...tens] } });
  });

  it('loopcopy: the PE fed twice returns each item twice, the detour first (depth-first)', async () => {
    const graph = loopcopy();
    expect(graph.sinks().map((pe) => pe.id)).toEqual(['TestOneInOneOut2']);
    expect((await simpleMapping.run(graph, { '*': 3 })).outputs).toEqual({ TestOneInOneOut2: { output: [1, 1, 2, 2, 3, 3] } });
  });

  it('sieveoferatosthenes: the 168 primes below 1000, in order', async () => {
    const graph = sieve();
    expect(graph.pes()).toHaveLength(200);
    const outputs = (await simpleMapping.run(graph)).outputs;
    expect(outputs).toEqual({ PrimeCollector2: { output: primesBelow(1000) } });
    expect(outputs.PrimeCollector2.output).toHaveLength(168);
  });

  it('sieveoferatosthenes: too few dividers pass the unsieved rest out of the last one', async () => {
    // Three dividers (MyFirstPE1, 3, 4) take 2, 3, 5; what survives them leaves through the last one.
    const outputs = (await simpleMapping.run(sieve({ limit: 50, dividers: 3 }))).outputs;
    expect(outputs.PrimeCollector2.output).toEqual([2, 3, 5]);
    const rest = Array.from({ length: 48 }, (_, i) => i + 2).filter((n) => n > 5 && n % 2 && n % 3 && n % 5);
    expect(outputs.MyFirstPE4.output).toEqual(rest);
  });

  it('test_exceptions: the run fails at the first odd number, naming the PE and the item', async () => {
    await expect(simpleMapping.run(testExceptions(), { '*': 2 })).rejects.toMatchObject({
      code: 'D4_PE_FAILED',
      message: expect.stringMatching(/ExceptionRaiser1.*\{"input":1\}.*Not an even number!/),
    });
  });

  it('test_exceptions: writing to an undeclared port fails, listing the ports that exist', async () => {
    const graph = new WorkflowGraph();
    graph.connect(new TestProducer(), 'output', new UndefinedOutput(), 'input');
    await expect(simpleMapping.run(graph, { '*': 1 })).rejects.toMatchObject({
      code: 'D4_PE_FAILED',
      message: expect.stringMatching(/UndefinedOutput1.*'does_not_exist'.*its outputs are: output/),
    });
  });

  it('uncaught_exception_test: a throwing postprocess fails the run, naming PE and phase', async () => {
    await expect(simpleMapping.run(uncaughtExceptionTest(), { '*': 3 })).rejects.toMatchObject({
      code: 'D4_PE_FAILED',
      message: expect.stringMatching(/ExceptionRaiser1.*postprocess.*Uncaught exception/),
    });
  });
});
