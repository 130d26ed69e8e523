#!/usr/bin/env node
import { runCli } from './cli.js';
import { LazyStdio } from './io.js';

// `d4 run … | head` closes stdout early: that is the reader's choice, not a failure.
const stdout = new LazyStdio(1, (stream) =>
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  }),
);
const stderr = new LazyStdio(2);

// No top-level await: the build runs this module as a script with a code cache
// (scripts/code-cache.mjs), and a script has none.
void runCli(process.argv.slice(2), { handleSigint: true, stdout, stderr }).then((code) => {
  // Exit explicitly once both streams are flushed: a backend that leaves a handle open (a
  // socket, a timer) must not keep `d4` alive after its work is done. A stream nothing was
  // written to has nothing to flush (and is not made for it).
  const flush = (stream: NodeJS.WriteStream | undefined, then: () => void) => (stream ? stream.write('', then) : then());
  flush(stdout.created, () => flush(stderr.created, () => process.exit(code)));
});
