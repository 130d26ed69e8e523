import { describe, expect, test } from '@jest/globals';
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import { encode, decode } from '@d4/core';
import { postBytes, workerSignals, sharedSignals, wake, runningTask } from '../src/thread-signals.js';

describe('thread signals', () => {
  test('postBytes carries exactly the bytes of a view into a large buffer, and leaves the view intact', () => {
    const { port1, port2 } = new MessageChannel();
    const big = new Uint8Array(32_768);
    const view = big.subarray(100, 115);
    view.set(Array.from({ length: 15 }, (_, i) => i + 1));
    postBytes(port1, view);
    const received = receiveMessageOnPort(port2)?.message as Uint8Array;
    expect(received.byteLength).toBe(15);
    expect(received.buffer.byteLength).toBe(15);
    expect([...received]).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
    expect(view.byteLength).toBe(15);
    expect(big.buffer.byteLength).toBe(32_768);
    // A large message is moved, not cloned: still exactly its bytes, and the source stays usable.
    const large = big.subarray(1000, 5000).fill(7);
    postBytes(port1, large);
    const moved = receiveMessageOnPort(port2)?.message as Uint8Array;
    expect(moved.buffer.byteLength).toBe(4000);
    expect(moved.every((b) => b === 7)).toBe(true);
    expect(large.byteLength).toBe(4000);
    port1.close();
  });

  test('with a timer pending the worker does not block: it takes nothing and goes back to its event loop', () => {
    const { port1, port2 } = new MessageChannel();
    const { buffer, counter } = sharedSignals();
    const taken: unknown[] = [];
    const signals = workerSignals(port2, { d4Wake: buffer }, (raw) => taken.push(decode(raw)));
    const timer = setTimeout(() => undefined, 10_000);
    try {
      postBytes(port1, encode(['first']));
      wake(counter);
      expect(signals.waitForTasks()).toBe(false);
      expect(taken).toEqual([]);
      expect(decode(receiveMessageOnPort(port2)?.message as Uint8Array)).toEqual(['first']);
    } finally {
      clearTimeout(timer);
      port1.close();
    }
  });

  test('the task a worker runs is read from the shared buffer once it has ended', () => {
    const { buffer, counter } = sharedSignals();
    const { port1, port2 } = new MessageChannel();
    const signals = workerSignals(port2, { d4Wake: buffer }, () => undefined);
    expect(runningTask(counter)).toBe(0);
    signals.running(42);
    expect(runningTask(counter)).toBe(42);
    signals.running(0);
    expect(runningTask(counter)).toBe(0);
    port1.close();
  });

  test('without a shared buffer (a process or a launched rank) there is nothing to wait on', () => {
    const { port2 } = new MessageChannel();
    expect(workerSignals(port2, undefined, () => undefined).waitForTasks()).toBe(false);
    expect(workerSignals(null, { d4Wake: new SharedArrayBuffer(12) }, () => undefined).waitForTasks()).toBe(false);
    port2.close();
  });
});
