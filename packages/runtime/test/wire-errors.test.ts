import { describe, expect, it } from '@jest/globals';
import {
  CodecError,
  D4Error,
  GraphError,
  InputError,
  MappingNotInstalledError,
  OptionError,
  PEError,
  ProcessAssignmentError,
  StatefulGraphError,
  WorkerError,
  WorkflowLoadError,
  decode,
  encode,
} from '@d4/core';
import { fromWireError, toWireError } from '../src/index.js';

/** Through core's codec (Redis, ZeroMQ, MPI) and through structured clone (worker threads). */
const carriers = {
  codec: (e: unknown) => fromWireError(decode(encode(toWireError(e))), 'worker 3'),
  clone: (e: unknown) => fromWireError(structuredClone(toWireError(e)), 'worker 3'),
};

describe.each(Object.entries(carriers))('an error crossing by %s', (_name, cross) => {
  it('a PEError comes back as a PEError with its PE, phase, item, message and the PE stack', () => {
    const inner = new RangeError('seven is not allowed');
    const back = cross(new PEError('Thrower1', 'process', { input: 7 }, inner));
    expect(back).toBeInstanceOf(PEError);
    expect(back).toBeInstanceOf(D4Error);
    expect(back).toMatchObject({ code: 'D4_PE_FAILED', name: 'PEError', peId: 'Thrower1', phase: 'process', item: { input: 7 }, message: 'PE Thrower1 failed while processing {"input":7}: seven is not allowed' });
    expect((back as PEError).peStack).toBe(inner.stack);
    expect((back.cause as Error).message).toBe('seven is not allowed');
    expect((back.cause as Error).name).toBe('RangeError');
  });

  it('the phase of a failing postprocess() is a field, not parsed from the message', () => {
    const back = cross(new PEError('FailsAtEnd1', 'postprocess', undefined, new Error('cannot finish')));
    expect(back).toMatchObject({ phase: 'postprocess', message: 'PE FailsAtEnd1 failed in postprocess(): cannot finish' });
  });

  it('an item the codec cannot carry arrives as its preview text', () => {
    const back = cross(new PEError('P1', 'process', { input: () => 1 }, new Error('x')));
    expect(back).toMatchObject({ peId: 'P1', item: '{}' });
  });

  it.each([
    [new GraphError('a cycle', 'D4_GRAPH_CYCLE'), GraphError, {}],
    [new InputError('bad value', 'D4_GROUPING_VALUE'), InputError, {}],
    [new CodecError("PE A1 wrote to port 'output' a function"), CodecError, {}],
    [new OptionError('bad option'), OptionError, {}],
    [new ProcessAssignmentError('needs 3', 3), ProcessAssignmentError, { required: 3 }],
    [new StatefulGraphError('dyn_multi', 'Count2', 'grouping', ['multi']), StatefulGraphError, { peId: 'Count2' }],
    [new MappingNotInstalledError('zmq_multi', '@d4/mapping-zmq'), MappingNotInstalledError, { packageName: '@d4/mapping-zmq' }],
    [new WorkerError('gone', 'D4_REDIS_LOST'), WorkerError, {}],
    [new D4Error('D4_REDIS_JOB_GONE', 'job over'), D4Error, {}],
  ])('%s keeps its class, code, message and fields', (error, cls, fields) => {
    const back = cross(error);
    expect(back).toBeInstanceOf(cls);
    expect(back).toMatchObject({ code: (error as D4Error).code, name: (error as D4Error).name, message: (error as D4Error).message, ...fields });
    expect(back.stack).toBe((error as Error).stack);
  });

  it("a workflow that does not load in a worker says which worker", () => {
    const back = cross(new WorkflowLoadError('cannot load the workflow module wf.ts: boom', 'D4_WORKFLOW_IMPORT'));
    expect(back).toBeInstanceOf(WorkflowLoadError);
    expect(back).toMatchObject({ code: 'D4_WORKFLOW_IMPORT', message: 'worker 3 could not rebuild the workflow: cannot load the workflow module wf.ts: boom' });
  });

  it('anything that is not a D4Error is a D4_WORKER_FAILED naming the worker, with the worker stack', () => {
    const error = new TypeError('x is not a function');
    const back = cross(error);
    expect(back).toBeInstanceOf(WorkerError);
    expect(back).toMatchObject({ code: 'D4_WORKER_FAILED', message: 'worker 3 failed: TypeError: x is not a function' });
    expect(back.stack).toContain('--- in the worker ---');
    expect(cross('a string thrown')).toMatchObject({ code: 'D4_WORKER_FAILED', message: 'worker 3 failed: Error: a string thrown' });
  });
});
