import { describe, expect, it } from '@jest/globals';
import { WorkerError, decode, encodeBatch } from '@d4/core';
import { HeapGuard } from '../src/index.js';

const MB = 1024 * 1024;

/**
 * The guard refuses, before the allocation, what a worker with --worker-memory could not
 * allocate in one piece (Node would abort the whole process). Jest's own heap is well above
 * 16 MB, so a guard with a 16 MB limit has no room left for a large allocation.
 */
describe('HeapGuard', () => {
  it('refuses to decode a batch larger than the heap left, naming the receiver', () => {
    const bytes = encodeBatch([0, 'x'.repeat(8 * MB)]);
    const error = (() => {
      try {
        new HeapGuard(16).decode(bytes, 'PE Length1 instance 0');
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(WorkerError);
    expect(error).toMatchObject({ code: 'D4_WORKER_OUT_OF_MEMORY' });
    expect((error as Error).message).toMatch(/^a worker thread ran out of memory: a batch of 8\.0 MB arrived for PE Length1 instance 0; decoding it needs more than the [\d.]+ MB left of this worker's heap \(--worker-memory 16\); raise --worker-memory/);
  });

  it('refuses to encode long strings that together exceed the heap left, naming the PE and port of the one that tips it', () => {
    const values = [0, 'a'.repeat(3 * MB), 0, 'b'.repeat(3 * MB)];
    expect(() => new HeapGuard(16).encodeBatch(values, (i) => (i % 2 ? { peId: 'Big0', port: 'output' } : undefined))).toThrow(
      /^a worker thread ran out of memory: PE Big0 wrote to port 'output' strings of 6\.0 MB in one batch; to send them, this worker must copy each into one piece/,
    );
  });

  it('encodes and decodes as the codec does when the heap has room, or without a limit', () => {
    const values = [0, { text: 'y'.repeat(5 * MB), n: 1 }];
    for (const guard of [new HeapGuard(undefined), new HeapGuard(4096)]) {
      const bytes = guard.encodeBatch(values);
      expect(guard.decode<unknown[]>(bytes, 'PE P0 instance 0')).toEqual(decode(encodeBatch(values)));
    }
  });
});
