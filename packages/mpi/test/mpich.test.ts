// The addon built against MPICH (mpicc.mpich) instead of Open MPI, and run under MPICH's own
// launcher (mpiexec.mpich, Hydra), from a copy of the package (mpich-build.ts).
// The test command installs MPICH beside Open MPI (scripts/system-tools.mjs); Debian's
// alternatives keep Open MPI as `mpicc` and `mpiexec` (priority 50 against MPICH's 40).
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { runMpi, type MpiRun } from './mpiexec.js';
import { buildMpichCopy, removeMpichBuild } from './mpich-build.js';
import { mpiBuild } from '../src/index.js';

let COPY = '';
const MPICH = ['mpiexec.mpich'];

/** Each rank's RESULT lines, merged, by rank: what a program computed, launcher aside. */
function byRank(run: MpiRun): Record<number, Record<string, unknown>> {
  const out: Record<number, Record<string, unknown>> = {};
  for (const line of run.results) Object.assign((out[line.rank as number] ??= {}), line);
  return out;
}

beforeAll(() => {
  COPY = buildMpichCopy(`mpich-${process.pid}`);
}, 320_000);

afterAll(() => removeMpichBuild(COPY));

describe('@d4/mpi built against MPICH', () => {
  test('the build records MPICH and links libmpich, not Open MPI', () => {
    expect(JSON.parse(readFileSync(join(COPY, 'build', 'd4-mpi.json'), 'utf8'))).toMatchObject({ impl: 'mpich', mpicc: 'mpicc.mpich' });
    const ldd = spawnSync('ldd', [join(COPY, 'build', 'Release', 'd4_mpi.node')], { encoding: 'utf8' }).stdout;
    expect(ldd).toMatch(/libmpich\.so/);
    expect(ldd).not.toMatch(/libmpi\.so/);
  });

  test('MPI.libraryVersion names MPICH on every rank, and a world of 3 has ranks 0, 1, 2', () => {
    const script = `import { MPI } from './src/index.js'; const w = await MPI.init(); console.log(\`RESULT \${JSON.stringify({ rank: w.rank, size: w.size, library: MPI.libraryVersion.split(/\\s/)[0] })}\`); await MPI.finalize();`;
    writeFileSync(join(COPY, 'version.ts'), script);
    const child = spawnSync('mpiexec.mpich', ['-n', '3', process.execPath, '--import', 'tsx', join(COPY, 'version.ts')], { cwd: COPY, encoding: 'utf8', timeout: 60_000 });
    expect(child.status).toBe(0);
    const lines = child.stdout.split('\n').filter((l) => l.startsWith('RESULT ')).map((l) => JSON.parse(l.slice(7)) as Record<string, unknown>);
    expect(lines.sort((a, b) => (a.rank as number) - (b.rank as number))).toEqual([0, 1, 2].map((rank) => ({ rank, size: 3, library: 'MPICH' })));
  }, 90_000);

  test('mpiBuild() says which MPI the addon was built against; D4_MPI_ADDON points @d4/mpi at another build', async () => {
    expect(mpiBuild()).toEqual({ impl: 'openmpi', mpicc: expect.any(String), missing: undefined });
    expect(mpiBuild(COPY)).toEqual({ impl: 'mpich', mpicc: 'mpicc.mpich', missing: undefined });
    // This package's own sources, loading the MPICH build through the variable.
    const env = { D4_MPI_ADDON: COPY };
    const [openMpi, mpich] = [await runMpi('collectives', 2), await runMpi('collectives', 2, { env, launcher: MPICH })];
    expect(mpich.stderr).toBe('');
    expect(mpich.status).toBe(0);
    expect(byRank(mpich)[0]).toBeDefined();
    expect(byRank(mpich)).toEqual(byRank(openMpi));
    // The other way round fails: Open MPI's launcher cannot start ranks of the MPICH build.
    const mismatched = await runMpi('collectives', 2, { env, deadlineMs: 30_000 });
    expect(mismatched.status).not.toBe(0);
  }, 120_000);

  // The same programs as the Open MPI tests (whose exact values those tests check), run on
  // both builds: every rank must compute the same under MPICH as under Open MPI.
  test.each([
    ['p2p', 3],
    ['collectives', 2],
    ['collectives', 4],
    ['pending', 3],
  ])('%s at -n %d gives every rank the same results under MPICH as under Open MPI', async (program, ranks) => {
    const env = { UV_THREADPOOL_SIZE: '4' };
    const [openMpi, mpich] = [await runMpi(program, ranks, { env }), await runMpi(program, ranks, { env, root: COPY, launcher: MPICH })];
    expect(openMpi.status).toBe(0);
    expect(mpich.stderr).toBe('');
    expect(mpich.status).toBe(0);
    expect(byRank(mpich)[0]).toBeDefined();
    expect(byRank(mpich)).toEqual(byRank(openMpi));
  }, 120_000);
});
