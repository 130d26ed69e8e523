import { describe, expect, test } from '@jest/globals';
import { decode } from '@d4/core';
import { WorkerSlots } from '../src/worker-slots.js';
import { resolveSettings } from '../src/options.js';
import type { WorkerBackend, WorkerSpec } from '../src/backend.js';
import { Task } from '../src/task.js';
import { F_DROP } from '../src/protocol.js';

// Worker slots with a fake backend that records what it is asked to do: no threads, no processes.
function fakeBackend() {
  const started: WorkerSpec[] = [];
  const sent: { id: number; message: unknown[] }[] = [];
  const stopped: number[] = [];
  const backend: WorkerBackend = {
    name: 'fake',
    ownProcess: true,
    start(spec) {
      started.push(spec);
      return {
        send: (bytes) => sent.push({ id: spec.id, message: decode<unknown[]>(bytes) }),
        ref: () => undefined,
        unref: () => undefined,
        stop: () => stopped.push(spec.id),
      };
    },
  };
  return { backend, started, sent, stopped };
}

const events = { message: () => undefined, exit: () => undefined };

function taskNeeding(cores: number, gpus: number): Task {
  const task = new Task({ key: 1, spec: { k: 'src', source: '() => 1', name: 't' }, label: 't' }, [], false, { cores, gpus, threadsPerCore: undefined, cwd: undefined, timeout: undefined, maxRetries: 0 });
  task.phase = 'queued';
  return task;
}

describe('WorkerSlots', () => {
  test('block allocation: the table starts every worker once, each with its own GPU, and sends it the init message', () => {
    const fake = fakeBackend();
    const options = { backend: fake.backend, maxWorkers: 2, blockAllocation: true, gpusPerWorker: 1, gpus: ['a', 'b'] };
    const slots = new WorkerSlots(resolveSettings(options), options, null, events);
    slots.fillTable();
    slots.fillTable();
    expect(fake.started.map((s) => [s.id, s.gpus, s.env.CUDA_VISIBLE_DEVICES])).toEqual([
      [1, ['a'], 'a'],
      [2, ['b'], 'b'],
    ]);
    expect(fake.sent.map((m) => [m.id, m.message])).toEqual([
      [1, [0, 1, null]],
      [2, [0, 2, null]],
    ]);
  });

  test('a detached worker is stopped once, gives its GPU back, and its place gets a new worker', () => {
    const fake = fakeBackend();
    const options = { backend: fake.backend, maxWorkers: 2, blockAllocation: true, gpusPerWorker: 1, gpus: ['a', 'b'] };
    const slots = new WorkerSlots(resolveSettings(options), options, null, events);
    const [first] = slots.fillTable();
    slots.detach(first!);
    slots.stop(first!);
    expect(fake.stopped).toEqual([1]);
    expect(slots.table[0]).toBeUndefined();
    slots.fillTable();
    expect(fake.started.map((s) => [s.id, s.gpus])).toEqual([
      [1, ['a']],
      [2, ['b']],
      [3, ['a']],
    ]);
  });

  test('fresh workers hold their cores and GPUs until they retire, once', () => {
    const fake = fakeBackend();
    const options = { backend: fake.backend, maxCores: 4, gpus: ['0', '1', '2'] };
    const slots = new WorkerSlots(resolveSettings(options), options, null, events);
    const slot = slots.startFresh(taskNeeding(3, 2));
    expect([slots.usedCores, slots.gpus.free, slot.gpus, fake.started[0].cores]).toEqual([3, 1, ['0', '1'], 3]);
    expect(slots.retireFresh(slot)).toBe(true);
    expect(slots.retireFresh(slot)).toBe(false);
    expect([slots.usedCores, slots.gpus.free, fake.stopped]).toEqual([0, 3, [1]]);
  });

  test('tasks go out in one message with each function once; a task whose arguments cannot be encoded is handed back', () => {
    const fake = fakeBackend();
    const options = { backend: fake.backend, maxWorkers: 1, blockAllocation: true };
    const slots = new WorkerSlots(resolveSettings(options), options, null, events);
    const [slot] = slots.fillTable();
    const good = [taskNeeding(1, 0), taskNeeding(1, 0)];
    const bad = taskNeeding(1, 0);
    bad.args = [() => 1];
    for (const task of [...good, bad]) slots.assign(task, slot!);
    const unsendable: number[] = [];
    slots.send(slot!, [...good, bad], (task) => unsendable.push(task.future.id));
    expect(unsendable).toEqual([bad.future.id]);
    const tasksMessage = fake.sent[1].message as [number, [number, unknown][], unknown[]];
    expect(tasksMessage[1].map(([key]) => key)).toEqual([1]);
    // Flat: id, function key, args, flags per task; the one that cannot be encoded leaves a placeholder (F_DROP), so the worker numbers its tasks as the executor does.
    expect(tasksMessage[2]).toEqual([...good.flatMap((t) => [t.future.id, 1, [], 0]), bad.future.id, 1, null, F_DROP]);
    expect(good.every((t) => t.phase === 'running' && t.attempts === 1)).toBe(true);
  });
});
