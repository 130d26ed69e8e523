#!/usr/bin/env node
/**
 * Run after tsc: bundles the heartbeat thread (src/liveness-thread.ts and the three modules it
 * imports) into one CommonJS file, dist/liveness-thread.cjs, which liveness.ts starts.
 *
 * Why CommonJS and one file: every worker process starts this thread, and a Node thread whose
 * entry is an ES module first sets up the ESM loader and resolves each import (a millisecond
 * or more per module). Measured on this machine (callgrind, instructions of a process that
 * starts a thread and waits for its first message): see README "Speed". The repo's
 * scripts/bundle.mjs writes ES modules only, so this package bundles its one CommonJS entry
 * here, with the same esbuild.
 */
import { build } from 'esbuild';

await build({
  entryPoints: ['src/liveness-thread.ts'],
  outfile: 'dist/liveness-thread.cjs',
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  keepNames: true,
  sourcemap: true,
  logLevel: 'warning',
  // The thread may use Node's built-ins only: anything else (ioredis, @d4/core) would be
  // loaded in every worker process for nothing.
  external: [],
  plugins: [
    {
      name: 'builtins-only',
      setup(b) {
        b.onResolve({ filter: /^[^./]/ }, (a) => {
          if (a.kind === 'entry-point') return undefined;
          if (a.path.startsWith('node:')) return { path: a.path, external: true };
          return { errors: [{ text: `the heartbeat thread may import Node's built-ins only, not '${a.path}' (it starts in every worker process)` }] };
        });
      },
    },
  ],
});
