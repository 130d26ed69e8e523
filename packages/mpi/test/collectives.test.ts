import { describe, expect, test } from '@jest/globals';
import { ofRank, runMpi } from './mpiexec.js';

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const fold = (values: number[], op: string) =>
  values.reduce((a, b) => (op === 'sum' ? a + b : op === 'min' ? Math.min(a, b) : op === 'max' ? Math.max(a, b) : a * b));

describe.each([2, 4])('every collective under mpiexec -n %i', (size) => {
  test('bcast, gather, allgather, reduce, allreduce and barrier give each rank what MPI defines', async () => {
    const run = await runMpi('collectives', size);
    expect(run.status).toBe(0);
    const last = size - 1;
    const ranks = range(size);
    for (const rank of ranks) {
      const r = ofRank(run, rank);
      expect(r.bcastObject).toEqual({ from: 1, list: [1, 2, 3], when: { Map: [['k', 'v']] } });
      expect(r.bcastTyped).toEqual({ Float32Array: [0.5, 1.5] });
      expect(r.gathered).toEqual(rank === 0 ? ranks.map((i) => ({ rank: i, text: 'x'.repeat(i) })) : undefined);
      expect(r.gatheredTyped).toEqual(rank === last ? ranks.map((i) => ({ Int32Array: range(i + 1).map((j) => i * 10 + j) })) : undefined);
      expect(r.all).toEqual(ranks.map((i) => (i % 2 === 0 ? `even ${i}` : { BigUint64Array: [`${i}n`] })));
      const expected: Record<string, unknown> = {};
      for (const op of ['sum', 'min', 'max', 'prod']) {
        expected[`number ${op}`] = fold(ranks.map((i) => i + 1), op);
        expected[`bigint ${op}`] = `${fold(ranks.map((i) => i + 2), op)}n`;
        expected[`float64 ${op}`] = { Float64Array: [fold(ranks, op), fold(ranks.map((i) => 0 - i), op), fold(ranks.map(() => 0.5), op)] };
        expected[`int32 ${op}`] = rank === 0 ? { Int32Array: [fold(ranks, op), fold(ranks.map((i) => 7 - i), op)] } : undefined;
        expected[`uint8 ${op}`] = rank === last ? { Uint8Array: [fold(ranks.map((i) => i + 1), op) % 256] } : undefined;
      }
      const gave = rank === last ? 3 : 2;
      expect(r.mismatch).toEqual(['D4_MPI_ARGUMENT', `COMM_WORLD.allreduce(value, op): the ranks gave Int32Arrays of lengths 2 to 3; every rank must give the same type, of the same length (this rank gave: Int32Array, length ${gave})`]);
      expect(r.mixed).toEqual(['D4_MPI_ARGUMENT', `COMM_WORLD.reduce(value, op, root): the ranks gave values of different types (Int32Array to Float64Array (or a number)); every rank must give the same type, of the same length (this rank gave: ${rank === 0 ? 'Int32Array' : 'Float64Array (or a number)'}, length 1)`]);
      // As the program printed them: JSON writes -0 as 0.
      expect(r.reductions).toEqual(JSON.parse(JSON.stringify(expected)));
    }
  });
});
