import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inputSpecFromOptions, resolveInputs } from '../src/index.js';
import { listInputs, pipeline, teeCopy } from '../src/conformance/graphs.js';

describe('input spec', () => {
  it('feeds every root N times with -i', () => {
    expect(resolveInputs(pipeline(), inputSpecFromOptions({ iterations: 7 }))).toEqual([{ peId: 'CountingProducer0', count: 7 }]);
  });

  it('runs a root that gets nothing once', () => {
    expect(resolveInputs(teeCopy(), {})).toEqual([{ peId: 'CountingProducer0', count: 1 }]);
  });

  it('takes -d lists by PE name, plain objects as inputs and other values on the first input', () => {
    const spec = inputSpecFromOptions({ data: '{"read": [{"input": "file.txt"}, "other.txt"]}' });
    expect(resolveInputs(listInputs(), spec)).toEqual([{ peId: 'read0', items: [{ input: 'file.txt' }, { input: 'other.txt' }] }]);
    expect(resolveInputs(listInputs(), { read0: 2 })).toEqual([{ peId: 'read0', count: 2 }]);
  });

  it('reads -f files and lets -d override them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'd4-in-'));
    const file = join(dir, 'in.json');
    writeFileSync(file, '{"read": 3}');
    expect(inputSpecFromOptions({ file })).toEqual({ read: 3 });
    expect(inputSpecFromOptions({ file, data: '{"read": 5}' })).toEqual({ read: 5 });
  });

  it('refuses bad input with clear errors', () => {
    expect(() => inputSpecFromOptions({ data: '{read: 1}' })).toThrow(expect.objectContaining({ code: 'D4_INPUT_JSON', message: expect.stringContaining('the -d option is not valid JSON') }));
    expect(() => inputSpecFromOptions({ data: '[1]' })).toThrow(/must be a JSON object/);
    expect(() => inputSpecFromOptions({ file: '/nonexistent/in.json' })).toThrow(expect.objectContaining({ code: 'D4_INPUT_FILE', message: expect.stringContaining('/nonexistent/in.json (ENOENT)') }));
    expect(() => inputSpecFromOptions({ iterations: -1 })).toThrow(/-i takes a whole number/);
    expect(() => resolveInputs(pipeline(), { nope: 1 })).toThrow(
      expect.objectContaining({ code: 'D4_INPUT_UNKNOWN_PE', message: expect.stringContaining("PE 'nope', which is not in the graph; the graph's PEs are: CountingProducer0, Identity1") }),
    );
    expect(() => resolveInputs(pipeline(), { Identity1: 1 })).toThrow(expect.objectContaining({ code: 'D4_INPUT_NOT_ROOT' }));
    expect(() => resolveInputs(pipeline(), { CountingProducer0: 'x' as unknown as number })).toThrow(expect.objectContaining({ code: 'D4_INPUT_VALUE' }));
  });
});
