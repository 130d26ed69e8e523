import { describe, expect, it } from '@jest/globals';
import { CodecError, decode, encode, encodeBatch } from '../src/index.js';

describe('codec', () => {
  it('round-trips the values PEs exchange', () => {
    const value = { n: 1.5, s: 'x', a: [1, [2, 'three']], m: new Map([[1, 'one']]), set: new Set([1, 2]), d: new Date(5), big: 10n, bytes: new Uint8Array([1, 2]), u: undefined, nil: null };
    expect(decode(encode(value))).toEqual(value);
    expect(decode(encodeBatch([1, 'two', { three: 3 }]))).toEqual([1, 'two', { three: 3 }]);
    const decoded = decode<{ m: Map<unknown, unknown>; o: object }>(encode({ m: new Map<unknown, unknown>([[1, 'a'], ['k', { x: 1 }]]), o: { y: 2 } }));
    expect(decoded.m).toBeInstanceOf(Map);
    expect(decoded.m.get(1)).toBe('a');
    expect(Object.getPrototypeOf(decoded.o)).toBe(Object.prototype);
  });

  it('refuses functions instead of dropping them, naming the PE and port', () => {
    expect(() => encode({ f: () => 1 }, { peId: 'Split2', port: 'output' })).toThrow(CodecError);
    expect(() => encode({ f: function named() {} }, { peId: 'Split2', port: 'output' })).toThrow(
      /PE Split2 wrote to port 'output' a value that cannot cross a process boundary: it holds a function named/,
    );
    expect(() => encodeBatch([1, 2, Symbol('s')], (i) => ({ peId: 'P0', port: `out${i}` }))).toThrow(/PE P0 wrote to port 'out2'.*symbol/);
  });

  it('reports undecodable bytes', () => {
    expect(() => decode(new Uint8Array([0x92, 0x01]))).toThrow(expect.objectContaining({ code: 'D4_CODEC' }));
  });
});
