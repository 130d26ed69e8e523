import { describe, expect, test } from '@jest/globals';
import { Membership } from '../src/index.js';

/** Settles pending promise callbacks, so that a wave's promise is observed once it resolved. */
const turn = () => new Promise((resolve) => setImmediate(resolve));

function watched(promise: Promise<void>): { done: boolean } {
  const state = { done: false };
  void promise.then(() => (state.done = true));
  return state;
}

function membersOf(...names: string[]): Membership {
  const members = new Membership();
  for (const member of names) members.note({ type: 'joined', member });
  return members;
}

describe('Membership: workers that join, leave and die while a run goes on', () => {
  test('a wave is done once every member asked has answered; repeated and strangers\' answers change nothing', async () => {
    const members = membersOf('a', 'b', 'c');
    const wave = watched(members.wave('close 1', ['a', 'b', 'c']));
    members.answer('close 1', 'a');
    members.answer('close 1', 'a');
    members.answer('close 1', 'stranger');
    members.answer('close 2', 'c');
    members.answer('close 1', 'b');
    await turn();
    expect(wave.done).toBe(false);
    expect(members.waiting('close 1')).toBe(1);
    members.answer('close 1', 'c');
    await turn();
    expect(wave.done).toBe(true);
    expect(members.waiting('close 1')).toBe(0);
  });

  test('an answer that comes before its wave starts counts (answers on another connection than the request\'s reply)', async () => {
    const members = membersOf('a', 'b');
    members.answer('close 3', 'b');
    const wave = watched(members.wave('close 3', ['a', 'b']));
    expect(members.waiting('close 3')).toBe(1);
    members.answer('close 3', 'a');
    await turn();
    expect(wave.done).toBe(true);
    const early = watched(members.wave('stop', []));
    members.answer('all answered first', 'a');
    members.answer('all answered first', 'b');
    const late = watched(members.wave('all answered first', ['a', 'b']));
    await turn();
    expect(early.done).toBe(true);
    expect(late.done).toBe(true);
  });

  test('a member that dies or leaves is not waited for, in every wave it owed an answer to', async () => {
    const members = membersOf('a', 'b', 'c');
    const closed = watched(members.wave('close', ['a', 'b']));
    const stopped = watched(members.wave('stop', ['a', 'b', 'c']));
    members.answer('close', 'a');
    expect(members.note({ type: 'died', member: 'b' })).toBe(true);
    await turn();
    expect(closed.done).toBe(true);
    expect(stopped.done).toBe(false);
    members.answer('stop', 'a');
    expect(members.note({ type: 'left', member: 'c' })).toBe(true);
    await turn();
    expect(stopped.done).toBe(true);
    expect(members.dead).toEqual(['b']);
    expect(members.live).toEqual(['a']);
    expect(members.hasLeft('c')).toBe(true);
  });

  test('a death is news once: seen twice, or after the member left, it changes nothing', () => {
    const members = membersOf('a', 'b');
    expect(members.note({ type: 'died', member: 'a' })).toBe(true);
    expect(members.note({ type: 'died', member: 'a' })).toBe(false);
    expect(members.note({ type: 'joined', member: 'a' })).toBe(false);
    expect(members.note({ type: 'left', member: 'b' })).toBe(true);
    expect(members.note({ type: 'died', member: 'b' })).toBe(false);
    expect(members.dead).toEqual(['a']);
    expect(members.isDead('b')).toBe(false);
  });

  test('a wave sent only to dead or departed members, or to none, is done at once', async () => {
    const members = membersOf('a', 'b');
    members.note({ type: 'died', member: 'a' });
    members.note({ type: 'left', member: 'b' });
    const toGone = watched(members.wave('close', ['a', 'b']));
    const toNone = watched(members.wave('stop', []));
    await turn();
    expect(toGone.done).toBe(true);
    expect(toNone.done).toBe(true);
  });
});
