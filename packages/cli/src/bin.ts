#!/usr/bin/env node
import { runCli } from './cli.js';

// `d4 run … | head` closes stdout early: that is the reader's choice, not a failure.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

// No top-level await: the build runs this module as a script with a code cache
// (scripts/code-cache.mjs), and a script has none.
void runCli(process.argv.slice(2), { handleSigint: true }).then((code) => {
  // Exit explicitly once both streams are flushed: a backend that leaves a handle open (a
  // socket, a timer) must not keep `d4` alive after its work is done.
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
});
