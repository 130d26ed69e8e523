import { describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

// Each example of examples/executor runs as a user would run it (npx tsx …), and its output is checked.
const repo = fileURLToPath(new URL('../../../', import.meta.url));
const tsxCli = createRequire(import.meta.url).resolve('tsx/cli');

function runExample(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const result = spawnSync(process.execPath, [tsxCli, `examples/executor/${name}.ts`], { cwd: repo, env, encoding: 'utf8', timeout: 60_000 });
  if (result.status !== 0) throw new Error(`example ${name} exited with ${result.status}: ${result.stderr}`);
  return result.stdout.trim();
}

describe('examples/executor (pympipool documentation, in TypeScript)', () => {
  test('sum: sum([1, 1]) is 2', () => {
    expect(runExample('sum')).toBe('2');
  });

  test('serial: four calc submissions on two workers give [3,4,5,6]', () => {
    expect(runExample('serial')).toBe('[3,4,5,6]');
  });

  test('map: the same through map() gives [3,4,5,6]', () => {
    expect(runExample('map')).toBe('[3,4,5,6]');
  });

  test('init: calc(2, {j: 5}) with init {j: 4, k: 3, l: 2} gives 10', () => {
    expect(runExample('init')).toBe('10');
  });

  test('coupled: calc(1, calc(1, 2)) through a future gives 4', () => {
    expect(runExample('coupled')).toBe('4');
  });

  test('resources: call-level resources give 3, and 2 cores × 1 thread sets OMP_NUM_THREADS=2', () => {
    expect(runExample('resources').split('\n')).toEqual(['3', '2']);
  });

  test('mpi: calc(3) on a worker of 2 MPI ranks (mpiexec) gives [[3,2,0],[3,2,1]]', () => {
    expect(runExample('mpi', process.env)).toBe('[[3,2,0],[3,2,1]]');
  });

  test('pipeline: two chained executors over a lazy source, functions by reference', () => {
    const expected = ['alpha', 'beta', 'gamma', 'delta'].map((w) => `${w} → ${createHash('sha256').update(w).digest('hex').slice(0, 8).toUpperCase()}!`);
    expect(runExample('pipeline').split('\n')).toEqual(expected);
  });
});
