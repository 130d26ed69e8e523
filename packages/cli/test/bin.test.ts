/**
 * End-to-end: the built `d4` binary as a user runs it (build first: turbo's test task
 * depends on build). Exit codes, stdout and stderr exactly as a shell sees them.
 */
import { describe, expect, test } from '@jest/globals';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { binPath, fixtures, spawnD4, spawnD4WithoutBackends, conformanceGraphsModule } from './helpers.js';

describe('the d4 binary', () => {
  test('is executable and starts with a node shebang', () => {
    expect(statSync(binPath).mode & 0o111).not.toBe(0);
    expect(readFileSync(binPath, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });

  test("package.json's bin is committed source, so installing links it before any build, and it runs the CLI", () => {
    const cli = fileURLToPath(new URL('../', import.meta.url));
    const pkg = JSON.parse(readFileSync(join(cli, 'package.json'), 'utf8')) as { bin: { d4: string }; files: string[] };
    const bin = join(cli, pkg.bin.d4);
    expect(bin).toBe(binPath);
    // Tracked by git (not build output, which .gitignore keeps out of a clone) and published.
    expect(spawnSync('git', ['ls-files', '--error-unmatch', pkg.bin.d4], { cwd: cli }).status).toBe(0);
    expect(pkg.files).toContain(pkg.bin.d4.replace(/^\.\//, '').split('/')[0]);
    const version = spawnSync(process.execPath, [bin, '--version'], { encoding: 'utf8' });
    expect({ status: version.status, stdout: version.stdout, stderr: version.stderr }).toEqual({ status: 0, stdout: '0.1.0\n', stderr: '' });
  });

  test('before the build, the bin says how to build instead of failing to import (exit 2)', () => {
    const pkg = mkdtempSync(join(tmpdir(), 'd4-unbuilt-'));
    try {
      mkdirSync(join(pkg, 'bin'));
      copyFileSync(binPath, join(pkg, 'bin', 'd4.js'));
      const r = spawnSync(process.execPath, [join(pkg, 'bin', 'd4.js'), 'list'], { encoding: 'utf8' });
      expect(r.status).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(
        `d4: the d4 command is not built yet (${join(pkg, 'dist', 'bin.js')} is missing); build it with \`npm run build\` in ${pkg}/, or from the repository root with \`npx turbo run build\` (\`pnpm install\` there builds it too) (D4_NOT_BUILT)\n`,
      );
    } finally {
      rmSync(pkg, { recursive: true, force: true });
    }
  });

  test('pipeline -i 3 --results json: exit 0, one JSON document on stdout, nothing on stderr', async () => {
    const r = await spawnD4(['run', 'simple', conformanceGraphsModule, '-a', 'pipeline', '-i', '3', '--results', 'json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { outputs: unknown; counts: unknown };
    expect(doc.outputs).toEqual({ Identity5: { output: [1, 2, 3] } });
    expect(doc.counts).toEqual({ Identity5: { output: 3 } });
  });

  test('loads a .ts workflow through tsx, and a .js one', async () => {
    const ts = await spawnD4(['run', 'simple', 'squares.ts', '-i', '3']);
    expect(ts).toEqual({ code: 0, stdout: 'Outputs:\n  Square1.output: [1, 4, 9]\n', stderr: '' });
    const js = await spawnD4(['run', 'simple', 'words.js', '-d', '{"Upper": ["x"]}', '--results', 'json']);
    expect(js.code).toBe(0);
    expect((JSON.parse(js.stdout) as { outputs: unknown }).outputs).toEqual({ Exclaim1: { output: ['X!'] } });
    expect(js.stderr).toBe('Exclaim1 (rank 0): exclaiming X\n');
  });

  test('a missing backend package: exit 2 and the package to install', () => {
    // A project with only the CLI: in this workspace every backend is installed.
    const r = spawnD4WithoutBackends(['run', 'zmq_multi', join(fixtures, 'squares.ts'), '-i', '3']);
    expect(r).toEqual({
      status: 2,
      stdout: '',
      stderr:
        "d4: mapping 'zmq_multi' is provided by @d4/mapping-zmq, which is not installed here: run `npm install @d4/mapping-zmq` (or `pnpm add @d4/mapping-zmq`) in your project (D4_MAPPING_NOT_INSTALLED)\n",
    });
  });

  test('bad inputs: exit 2 with the message', async () => {
    const json = await spawnD4(['run', 'simple', 'squares.ts', '-d', 'nope']);
    expect(json.code).toBe(2);
    expect(json.stderr).toMatch(/^d4: the -d option is not valid JSON: .*\(D4_INPUT_JSON\)\n$/);
    const option = await spawnD4(['run', './fake-mapping.js#echo', 'squares.ts', '-n', 'abc']);
    expect(option).toEqual({ code: 2, stdout: '', stderr: "d4: option '-n, --num <n>' argument 'abc' is invalid. expected a number, e.g. 4 (D4_USAGE)\nsee 'd4 run --help'\n" });
  });

  test('a PE that calls process.exit on simple: d4 names the PE, the item and the code, then exits with that code', async () => {
    const r = await spawnD4(['run', 'simple', 'exiting.ts', '-i', '3']);
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('d4: PE Quitter1 failed while processing {"input":2}: called process.exit(3), which ended d4 itself');
    expect(r.stderr).toContain('a PE must not end its process: throw an error instead');
    expect(r.stderr).toContain('d4 exits with code 3');
  });

  test('a failing PE: exit 1 with the PE, the item and the PE stack, which names the line of the .ts file (not the compiled copy)', async () => {
    const r = await spawnD4(['run', 'simple', 'failing.ts', '-i', '3']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n').slice(0, 4)).toEqual([
      'd4: PE Fragile1 failed while processing {"input":2}: two is not allowed here (D4_PE_FAILED)',
      'PE stack:',
      '  Error: two is not allowed here',
      `      at Fragile._process (${join(fixtures, 'failing.ts')}:10:28)`,
    ]);
    expect(r.stderr).not.toContain('.cache/d4');
  });

  test("a mapping option falls back to its environment variable", async () => {
    const r = await spawnD4(['run', './fake-mapping.js#echo', 'squares.ts', '--results', 'json'], { env: { D4_FAKE_LABEL: 'from-env' } });
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { stats: { given: unknown } }).stats.given).toEqual({ numProcesses: 4, label: 'from-env' });
    const flag = await spawnD4(['run', './fake-mapping.js#echo', 'squares.ts', '--label', 'from-flag', '--results', 'json'], { env: { D4_FAKE_LABEL: 'from-env' } });
    expect((JSON.parse(flag.stdout) as { stats: { given: unknown } }).stats.given).toEqual({ numProcesses: 4, label: 'from-flag' });
  });

  test("d4 worker calls the mapping's worker() with its options", async () => {
    const r = await spawnD4(['worker', './fake-mapping.js#echo', '-n', '2', '--label', 'w']);
    expect(r).toEqual({ code: 0, stdout: '', stderr: 'worker options {"numProcesses":2,"label":"w"}\n' });
  });

  test('Ctrl-C aborts a run: exit 130', async () => {
    let sent = false;
    const r = await spawnD4(['run', 'simple', 'endless.ts', '-i', '1000000000', '--count'], {
      onStderr: (text, child) => {
        if (!sent && text.includes('Ticks0 (rank 0): started')) {
          sent = true;
          child.kill('SIGINT');
        }
      },
    });
    expect(r.code).toBe(130);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      'Ticks0 (rank 0): started\n\nd4: interrupted; stopping (press Ctrl-C again to exit at once)\nd4: the run was aborted: interrupted (SIGINT) (D4_ABORTED)\n',
    );
  });

  // A single allocation larger than a worker's heap limit allows aborts the whole process in
  // Node (exit 134, "FATAL ERROR: CALL_AND_RETRY_LAST"); here a 100 MB string, which the
  // worker would have to copy into one piece to send, under --worker-memory 64.
  for (const mapping of ['multi', 'dyn_multi']) {
    test(`${mapping}: a value too large for --worker-memory fails with D4_WORKER_OUT_OF_MEMORY, reported by the driver (exit 1)`, async () => {
      const r = await spawnD4(['run', mapping, 'huge.ts', '-a', 'huge', '--args', '{"mb": 100}', '-i', '2', '-n', '2', '--worker-memory', '64', '--count']);
      expect(r.stdout).toBe('');
      expect(r.stderr).not.toContain('FATAL ERROR');
      expect(r.stderr).toMatch(
        /^d4: a worker thread ran out of memory: PE BigStrings0 wrote to port 'output' a string of 100 MB; to send it, this worker must copy it into one piece, which needs more than the [\d.]+ MB left of its heap \(--worker-memory 64\); raise --worker-memory, or write smaller items \(D4_WORKER_OUT_OF_MEMORY\)\n$/,
      );
      expect(r.code).toBe(1);
    });
  }
});
