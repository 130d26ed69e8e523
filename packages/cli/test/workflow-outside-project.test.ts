/**
 * A workflow file in a folder that has no @d4/core (outside any project, as /tmp/wf.ts):
 * the d4 binary says that @d4/core cannot be found from the file's folder and how to fix
 * it, instead of Node's "Cannot require() ES Module … in a cycle".
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { copyFileSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixtures, spawnD4 } from './helpers.js';

let dir: string;
beforeAll(() => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), 'd4-outside-')));
  copyFileSync(join(fixtures, 'squares.ts'), join(dir, 'squares.ts'));
  writeFileSync(join(dir, 'squares.mjs'), "import { WorkflowGraph } from '@d4/core';\nexport default new WorkflowGraph();\n");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const expected = (spec: string) =>
  `d4: the workflow module ${spec} imports @d4/core, which cannot be found from ${dir} (no node_modules/@d4/core there or in a folder above it); ` +
  `install @d4/core in the project that holds the file (npm install @d4/core next to its package.json, or npm init -y && npm install @d4/core in ${dir}), ` +
  `or put the file inside a project that has @d4/core (D4_WORKFLOW_NO_CORE)\n`;

describe('a workflow outside any project that has @d4/core', () => {
  test('a .ts file (loaded through tsx): exit 2, says where @d4/core is missing and what to do', async () => {
    const r = await spawnD4(['run', 'simple', 'squares.ts', '-i', '3'], { cwd: dir });
    expect(r).toEqual({ code: 2, stdout: '', stderr: expected('squares.ts') });
  });

  test('a .mjs file, given by absolute path from another directory; d4 graph says the same', async () => {
    const run = await spawnD4(['run', 'simple', join(dir, 'squares.mjs'), '-i', '3']);
    expect(run).toEqual({ code: 2, stdout: '', stderr: expected(join(dir, 'squares.mjs')) });
    const graph = await spawnD4(['graph', join(dir, 'squares.mjs')]);
    expect(graph).toEqual({ code: 2, stdout: '', stderr: expected(join(dir, 'squares.mjs')) });
  });
});
