#!/usr/bin/env node
// Runs jest for the package in the current directory with ESM support, and leaves the
// machine-readable results in .jest-results.json so that scripts/test-all.mjs can total them.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const jestBin = require.resolve('jest/bin/jest');
const result = spawnSync(
  process.execPath,
  [
    '--experimental-vm-modules',
    '--no-warnings=ExperimentalWarning',
    jestBin,
    '--json',
    '--outputFile=.jest-results.json',
    ...process.argv.slice(2),
  ],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
