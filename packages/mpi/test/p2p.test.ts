import { describe, expect, test } from '@jest/globals';
import { ofRank, runMpi } from './mpiexec.js';

const sent = (rank: number) => ({
  text: `hello ${rank}`,
  nested: { list: [1, 'two', null, true], map: { Map: [['a', rank]] }, big: `${2n ** 70n + BigInt(rank)}n` },
  float64: { Float64Array: [0, 1.5, 3, 4.5, 6].map((x) => x + rank) },
  int16: { Int16Array: [-3, rank, 32767] },
  buffer: { Buffer: [...Buffer.from(`bytes for ${rank}`)] },
});

describe('point-to-point under mpiexec', () => {
  test('every kind of value crosses each way, small and over 4 KB, with tags, any-source receives and raw bytes (-n 3)', async () => {
    const run = await runMpi('p2p', 3);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const root = ofRank(run, 0);
    const expected: Record<string, unknown> = {};
    for (const source of [1, 2]) for (const [kind, value] of Object.entries(sent(source))) expected[`${source}:${kind}`] = value;
    expect(root.echoes).toEqual(expected);
    expect(root.first).toEqual(['tag one', 1]);
    expect(root.second).toEqual(['tag two', 2]);
    expect(root.bytes).toEqual(['raw frame', 1, 77, 9]);
    expect(root.float64View).toEqual([8, 8]);
    expect(root.large).toEqual(['Int32Array', 30_000, 0, 89_997, 100_000, 21]);
    expect(ofRank(run, 1)).toEqual({ rank: 1, echoed: 5 });
    expect(ofRank(run, 2)).toEqual({ rank: 2, echoed: 5 });
  });
});
