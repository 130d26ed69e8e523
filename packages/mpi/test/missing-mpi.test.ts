import { describe, expect, test, beforeAll, afterAll } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadAddon } from '../src/load-addon.js';
// @ts-expect-error: a plain ESM build script, without types
import { detectMpi } from '../scripts/mpi-flags.mjs';

const packageRoot = fileURLToPath(new URL('..', import.meta.url));
let scratch: string;

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'd4-mpi-missing-'));
  mkdirSync(join(scratch, 'empty-bin'));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function thrown(run: () => unknown): { code?: string; name?: string; message: string } {
  try {
    run();
  } catch (error) {
    return error as { code?: string; message: string };
  }
  throw new Error('expected an error');
}

describe('a machine without MPI', () => {
  test('the build finds no MPI, exits 0 (the workspace installs) and records what to install', () => {
    const copy = join(scratch, 'package');
    for (const part of ['scripts', 'native', 'binding.gyp', 'package.json']) cpSync(join(packageRoot, part), join(copy, part), { recursive: true });
    const result = spawnSync(process.execPath, [join(copy, 'scripts', 'build-addon.mjs')], { env: { PATH: join(scratch, 'empty-bin') }, encoding: 'utf8' });
    expect(result.status).toBe(0);
    const record = JSON.parse(readFileSync(join(copy, 'build', 'd4-mpi.json'), 'utf8'));
    expect(record.missing).toMatch(/^no MPI compiler wrapper \(mpicc, mpicc.openmpi or mpicc.mpich\) was found on PATH when @d4\/mpi was built; install an MPI .*`apt-get install openmpi-bin libopenmpi-dev`/);
    expect(result.stderr).toContain(`@d4/mpi: not built: ${record.missing}`);
    // Using @d4/mpi there fails with a D4Error that carries the same advice.
    const error = thrown(() => loadAddon(copy));
    expect(error.code).toBe('D4_MPI_MISSING');
    expect(error.name).toBe('MpiError');
    expect(error.message).toBe(`@d4/mpi cannot be used: ${record.missing}`);
  });

  test('an addon that was never built, or cannot load, is a D4_MPI_MISSING error saying how to build it', () => {
    const never = join(scratch, 'never');
    mkdirSync(never);
    const error = thrown(() => loadAddon(never));
    expect(error.code).toBe('D4_MPI_MISSING');
    expect(error.message).toContain(`its addon was never built (no ${join(never, 'build', 'Release', 'd4_mpi.node')}); install MPI with its development files (Debian/Ubuntu: \`apt-get install openmpi-bin libopenmpi-dev\``);
    const broken = join(scratch, 'broken');
    mkdirSync(join(broken, 'build', 'Release'), { recursive: true });
    writeFileSync(join(broken, 'build', 'Release', 'd4_mpi.node'), 'not a shared object');
    writeFileSync(join(broken, 'build', 'd4-mpi.json'), JSON.stringify({ impl: 'openmpi' }));
    const load = thrown(() => loadAddon(broken));
    expect(load.code).toBe('D4_MPI_MISSING');
    expect(load.message).toMatch(/^@d4\/mpi's addon \(built against openmpi\) cannot be loaded: .*broken\/build\/Release\/d4_mpi\.node: file too short; install MPI/);
  });

  test('D4_MPI chooses the implementation, and a wrong or absent choice says so', () => {
    expect(detectMpi({ ...process.env, D4_MPI: 'openmpi' })).toMatchObject({ impl: 'openmpi', link: expect.arrayContaining(['-lmpi']) });
    expect(detectMpi({ ...process.env, D4_MPI: 'lam' }).missing).toBe("D4_MPI=lam is neither 'openmpi' nor 'mpich'");
    const mpich = detectMpi({ PATH: join(scratch, 'empty-bin'), D4_MPI: 'mpich' });
    expect(mpich.missing).toMatch(/^no MPICH \(mpicc.mpich\) was found on PATH when @d4\/mpi was built; install an MPI .*`mpich libmpich-dev` for MPICH/);
  });
});
