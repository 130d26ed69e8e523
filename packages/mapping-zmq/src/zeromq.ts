/**
 * zeromq.js, loaded once per process with require(). It is a CommonJS module: an ESM
 * `import` of it first has Node scan its source with cjs-module-lexer for named exports,
 * which cost ~13 ms of CPU of every worker's start here (37 against 24 ms to load it).
 * A binary that does not load on this machine is a clear error (`D4_ZMQ_UNAVAILABLE`).
 */
import { createRequire } from 'node:module';
import { D4Error } from '@d4/core';

export type ZeroMQ = typeof import('zeromq');

let loaded: ZeroMQ | undefined;

export function zeromq(): ZeroMQ {
  if (loaded) return loaded;
  try {
    loaded = createRequire(import.meta.url)('zeromq') as ZeroMQ;
  } catch (error) {
    throw new D4Error(
      'D4_ZMQ_UNAVAILABLE',
      `zmq_multi needs zeromq's native binary, which does not load on this machine (${process.platform}-${process.arch}, Node ${process.versions.node}): ${(error as Error).message}; reinstall with 'npm rebuild zeromq' or use another mapping (multi, redis)`,
      { cause: error },
    );
  }
  return loaded;
}
