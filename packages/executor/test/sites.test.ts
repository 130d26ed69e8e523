/**
 * Where things point: the stack of a task sent by source names the user's file and line
 * (not `eval at fromSource … <anonymous>`), and a relative taskRef() path is resolved from
 * the file that wrote it, not from the working directory.
 */
import { afterAll, describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Executor, taskRef } from '../src/index.js';

const sites = fileURLToPath(new URL('./fixtures/sites/', import.meta.url));
const tsxCli = createRequire(import.meta.url).resolve('tsx/cli');

/** Runs a fixture script from another directory (the system's temporary one), as a user would. */
function runScript(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, args, { cwd: tmpdir(), encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('a task sent by source fails with a stack in the user file', () => {
  for (const backend of ['thread', 'process']) {
    test(`plain JavaScript: the exact line and column of the throw (${backend} workers)`, () => {
      const r = runScript([`${sites}throws.mjs`, backend]);
      expect(r.stderr).toBe('');
      const lines = r.stdout.split('\n');
      expect(lines[0]).toBe('Error: too big: 5');
      expect(lines[1]).toBe(`    at checkLimit (${sites}throws.mjs:7:11)`);
      expect(r.stdout).not.toContain('<anonymous>');
    });
  }

  // throws.ts throws on line 9 (a function), 16 (an async arrow) and 23 (a method).
  for (const [kind, frame] of [
    ['function', 'checkLimit (%s:9:'],
    ['arrow', 'checkArrow (%s:16:'],
    ['method', 'method (%s:23:'],
  ] as const) {
    test(`TypeScript through tsx, ${kind === "arrow" ? "an async arrow" : `a ${kind}`}: the line of the throw in the .ts file (through tsx's source map)`, () => {
      const r = runScript([tsxCli, `${sites}throws.ts`, 'thread', kind]);
      expect(r.stderr).toBe('');
      const lines = r.stdout.split('\n');
      expect(lines[1].startsWith(`    at ${frame.replace('%s', `${sites}throws.ts`)}`)).toBe(true);
      expect(lines[1]).toMatch(/:\d+\)$/);
    });
  }
});

describe('taskRef() with a relative path', () => {
  const exe = new Executor({ maxWorkers: 1 });
  afterAll(() => exe.shutdown());

  test('is resolved from the calling file, whatever the working directory', async () => {
    expect(existsSync(resolve('./fixtures/tasks.ts'))).toBe(false); // the working directory is not this folder
    expect(await exe.submit(taskRef<(a: number, b: number) => number>('./fixtures/tasks.ts', 'add'), 40, 2)).toBe(42);
    expect(await exe.submit(taskRef<(x: number) => number>('./fixtures/sites/../sites/twice.ts', 'twice'), 21)).toBe(42);
  });

  test('from a script started in another directory (tsx, the script imports ./twice.ts by reference first)', () => {
    // throws.ts submits taskRef('./twice.ts', …) before the function that throws: reaching the throw means the import worked.
    const r = runScript([tsxCli, `${sites}throws.ts`, 'process']);
    expect(r.stdout).not.toContain('D4_TASK_IMPORT');
    expect(r.stdout.split('\n')[0]).toBe('Error: too big: 5');
  });
});
