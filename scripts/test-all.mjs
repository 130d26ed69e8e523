#!/usr/bin/env node
// The README's test command (`npm test`): installs what the tests need, builds every
// package, runs every package's jest suite and ends with one line `N passed, N failed`.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureSystemTools } from './system-tools.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: 'inherit', ...options });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

function fail(message) {
  console.error(`test: ${message}`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}

// 1. JavaScript dependencies (the quick-start command installs them; a bare clone too).
if (!existsSync(join(root, 'node_modules', '.pnpm'))) {
  if (run('npx', ['-y', 'pnpm@10', 'install', '--frozen-lockfile']) !== 0) fail('pnpm install failed; see above');
}

// 2. Servers, launchers and compilers the tests use for real (scripts/system-tools.mjs).
const missing = ensureSystemTools();
if (missing) fail(missing);
// MPI may have been installed just now, after `pnpm install` built @d4/mpi without it, and
// turbo would replay that build from its cache: build the addon now (a no-op when up to
// date), before any package whose tests use it (mapping-mpi, executor, examples).
const buildAddon = join(root, 'packages', 'mpi', 'scripts', 'build-addon.mjs');
if (existsSync(buildAddon) && run(process.execPath, [buildAddon], { cwd: join(root, 'packages', 'mpi') }) !== 0) fail('building the @d4/mpi addon failed; see above');

// 3. Build, then every package's tests, one package at a time (2-core machines).
const suites = ['packages/core', 'packages/cli', 'packages/mapping-multi', 'packages/mapping-redis', 'packages/executor', 'examples']
  .concat(readdirSync(join(root, 'packages')).map((d) => `packages/${d}`))
  .filter((dir, i, all) => all.indexOf(dir) === i && existsSync(join(root, dir, 'package.json')))
  .filter((dir) => JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8')).scripts?.test);
for (const dir of suites) rmSync(join(root, dir, '.jest-results.json'), { force: true });

const turbo = join(root, 'node_modules', '.bin', 'turbo');
if (run(turbo, ['run', 'build', '--output-logs=errors-only']) !== 0) fail('the build failed; see above');
const testStatus = run(turbo, ['run', 'test', '--concurrency=1', '--continue', '--output-logs=full'], { env: { ...process.env, FORCE_COLOR: '0' } });

// 4. Totals from each suite's jest JSON results.
let passed = 0;
let failed = 0;
const problems = [];
for (const dir of suites) {
  const file = join(root, dir, '.jest-results.json');
  if (!existsSync(file)) {
    problems.push(`${dir}: its test suite did not run to the end (no results)`);
    failed += 1;
    continue;
  }
  const results = JSON.parse(readFileSync(file, 'utf8'));
  passed += results.numPassedTests;
  failed += results.numFailedTests + results.numRuntimeErrorTestSuites;
  if (results.numTotalTests === 0) problems.push(`${dir}: ran no test`);
  if (results.numFailedTests || results.numRuntimeErrorTestSuites) problems.push(`${dir}: ${results.numFailedTests} failed test(s), ${results.numRuntimeErrorTestSuites} suite(s) that could not run`);
}
for (const p of problems) console.error(`test: ${p}`);
if (testStatus !== 0 && failed === 0) {
  failed += 1;
  console.error('test: turbo reported a failing test task; see above');
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
