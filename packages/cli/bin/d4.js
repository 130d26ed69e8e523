#!/usr/bin/env node
// The `d4` command as package managers link it. This file is committed JavaScript, not
// build output: pnpm links bins while it installs, before the workspace's `prepare` builds
// dist/, and a bin that points into dist/ is then skipped ("Failed to create bin") until a
// second install. It loads the built CLI only when run, and says what to do if it is not built.
import { createRequire } from 'node:module';

// require(), not import: an ES import of node:fs builds its module facade, which loads ~20
// stream modules the CLI does not use (see scripts/code-cache-runtime.mjs).
const require = createRequire(import.meta.url);
const { existsSync } = require('node:fs');
const { fileURLToPath } = require('node:url');

const built = new URL('../dist/bin.js', import.meta.url);
if (!existsSync(fileURLToPath(built))) {
  const cli = fileURLToPath(new URL('..', import.meta.url));
  process.stderr.write(
    `d4: the d4 command is not built yet (${fileURLToPath(built)} is missing); build it with \`npm run build\` in ${cli}, or from the repository root with \`npx turbo run build\` (\`pnpm install\` there builds it too) (D4_NOT_BUILT)\n`,
  );
  process.exit(2);
}
await import(built.href);
