import { describe, expect, test } from '@jest/globals';
import { CloseWaves, Membership, type PlacementPlan } from '../src/index.js';

/** Settles pending promise callbacks. */
const turn = async () => {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
};

/** root 0 -> shared 1 -> pinned 2 (one unit), as an at-least-once driver plans it. */
const plan: PlacementPlan = {
  kind: 'hybrid',
  numProcesses: 2,
  pes: [
    { id: 'Source0', mode: 'root', units: [], preds: [], succs: [1] },
    { id: 'Double1', mode: 'shared', units: [], preds: [0], succs: [2] },
    { id: 'Sum2', mode: 'pinned', units: [0], preds: [1], succs: [] },
  ],
  units: [{ pe: 2, instance: 0 }],
};

/** A fake transport: in-flight counts per PE, a log of what was watched and broadcast. */
function fakeLink(inFlight: number[], members: Membership) {
  const log: string[] = [];
  const failures: unknown[] = [];
  let localsJoined = 0;
  return {
    log,
    failures,
    joinedCalls: () => localsJoined,
    link: {
      watch: async (pe: number) => {
        log.push(`watch ${pe}`);
        return inFlight[pe];
      },
      broadcast: async (command: 'close' | 'stop', value: string) => {
        log.push(`${command} ${value}`);
        return members.live;
      },
      localsJoined: async () => {
        localsJoined++;
      },
      fail: (error: unknown) => failures.push(error),
    },
  };
}

describe('CloseWaves: exact termination of an at-least-once job, PE by PE in graph order', () => {
  test('a PE closes only once its feeders are done and nothing is in flight for it; the stop wave ends the job', async () => {
    const members = new Membership();
    for (const m of ['w0', 'w1']) members.note({ type: 'joined', member: m });
    const inFlight = [0, 3, 0];
    const fake = fakeLink(inFlight, members);
    const waves = new CloseWaves(plan, members, fake.link);
    let finished = false;
    void waves.finished.then(() => (finished = true));
    expect(waves.done).toEqual([true, false, false]);

    await waves.rootsDone();
    // Double1 has 3 inputs in flight: watched, not closed; Sum2 is not even watched (its feeder is open).
    expect(fake.log).toEqual(['watch 1']);
    await waves.zero(2); // a zero for a PE not watched changes nothing
    expect(fake.log).toEqual(['watch 1']);

    await waves.zero(1);
    await waves.zero(1); // the same zero seen twice closes once
    expect(fake.log).toEqual(['watch 1', 'close 1']);
    waves.closed('w0', 1);
    await turn();
    expect(waves.done).toEqual([true, false, false]);
    waves.closed('w1', 1);
    await turn();
    // Double1 done: Sum2 is watched, found empty, and closed after the local workers joined (it is pinned).
    expect(waves.done).toEqual([true, true, false]);
    expect(fake.log).toEqual(['watch 1', 'close 1', 'watch 2', 'close 2']);
    expect(fake.joinedCalls()).toBe(1);

    waves.closed('w0', 2);
    members.note({ type: 'died', member: 'w1' }); // a dead worker is not waited for
    await turn();
    expect(waves.allDone).toBe(true);
    expect(waves.stopping).toBe(true);
    expect(fake.log).toEqual(['watch 1', 'close 1', 'watch 2', 'close 2', 'stop 1']);
    expect(finished).toBe(false);
    waves.reported('w0');
    await turn();
    expect(finished).toBe(true);
    expect(fake.failures).toEqual([]);
  });

  test('an answer read before the close broadcast replied still counts', async () => {
    const members = new Membership();
    members.note({ type: 'joined', member: 'w0' });
    const fake = fakeLink([0, 0, 0], members);
    const waves = new CloseWaves({ ...plan, pes: plan.pes.slice(0, 2).map((p) => ({ ...p, succs: [] })) }, members, fake.link);
    waves.closed('w0', 1);
    await waves.rootsDone();
    await turn();
    expect(waves.done).toEqual([true, true]);
    expect(fake.log).toEqual(['watch 1', 'close 1', 'stop 1']);
  });
});
