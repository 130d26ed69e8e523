/**
 * ERROR_CODES is closed: the compiler refuses a D4Error with a code it does not list, and
 * this test catches the codes the compiler cannot see (compared as strings, listed in
 * arrays) in the source of every package, the examples and the benchmarks.
 */
import { describe, expect, test } from '@jest/globals';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { D4Error, ERROR_CODES, GraphError, isD4ErrorCode } from '../src/index.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

function sourceFiles(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries.flatMap((name) => {
    if (name === 'node_modules' || name === 'dist' || name === 'test' || name.startsWith('.')) return [];
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|mts|js|mjs)$/.test(name) ? [path] : [];
  });
}

describe('ERROR_CODES', () => {
  test('lists every D4_ code that a source file names as a string', () => {
    const dirs = [...readdirSync(join(root, 'packages')).map((p) => join(root, 'packages', p, 'src')), join(root, 'examples'), join(root, 'bench', 'src')];
    const files = dirs.flatMap(sourceFiles);
    expect(files.length).toBeGreaterThan(50);
    const missing = new Set<string>();
    for (const file of files) {
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        // Environment variables share the prefix (`env: 'D4_ZMQ_SERVER_KEY'`, `RELAY_ENV = 'D4_MPI_RELAY'`).
        if (/env/i.test(line)) continue;
        for (const match of line.matchAll(/['"`](D4_[A-Z0-9_]+)['"`]/g)) {
          if (!isD4ErrorCode(match[1])) missing.add(`${match[1]} (${file.slice(root.length)})`);
        }
      }
    }
    expect([...missing]).toEqual([]);
  });

  test('every entry has an exit kind and a summary', () => {
    for (const [code, info] of Object.entries(ERROR_CODES)) {
      expect([code, ['usage', 'runFailed', 'interrupted'].includes(info.exit), info.summary.length > 10]).toEqual([code, true, true]);
    }
  });

  test('isD4ErrorCode knows the table only', () => {
    expect(isD4ErrorCode('D4_GRAPH_CYCLE')).toBe(true);
    expect(isD4ErrorCode('D4_NOT_A_CODE')).toBe(false);
    expect(isD4ErrorCode('toString')).toBe(false);
    expect(isD4ErrorCode(42)).toBe(false);
  });

  test('errors carry their code', () => {
    expect(new GraphError('x', 'D4_GRAPH_CYCLE').code).toBe('D4_GRAPH_CYCLE');
    expect(new D4Error('D4_INTERNAL', 'x').code).toBe('D4_INTERNAL');
  });
});
