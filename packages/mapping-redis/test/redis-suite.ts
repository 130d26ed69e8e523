import { spawn, type StdioOptions } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach } from '@jest/globals';
import { joinerScript } from './helpers.js';
import { startRedis, type TestRedis } from './redis-server.js';

/** What a suite's tests share: its server, and the current test's own folder (with a prefix). */
export interface RedisSuite {
  readonly server: TestRedis;
  readonly dir: string;
}

/**
 * The setup of every suite that runs jobs against a server: a redis-server of the file's
 * own (started before its first test, stopped after the last, also when tests fail), and,
 * given a prefix, a fresh temporary folder per test for gates and markers, removed after it
 * together with the gate variable the fixtures read (D4_TEST_GATE).
 */
export function useRedisSuite(prefix?: string): RedisSuite {
  const state: { server?: TestRedis; dir?: string } = {};
  beforeAll(async () => {
    state.server = await startRedis();
  });
  afterAll(async () => {
    await state.server?.stop();
  });
  if (prefix !== undefined) {
    beforeEach(() => {
      state.dir = mkdtempSync(join(tmpdir(), prefix));
    });
    afterEach(() => {
      delete process.env.D4_TEST_GATE;
      if (state.dir) rmSync(state.dir, { recursive: true, force: true });
    });
  }
  return {
    get server() {
      return state.server!;
    },
    get dir() {
      return state.dir!;
    },
  };
}

/** A joined worker process (test/fixtures/joiner.mjs) and how it ended: its signal or exit code. */
export interface Joiner {
  pid: number;
  exit: Promise<number | string | null>;
}

/**
 * A second process that joins the job through mapping.worker(), as `d4 worker` does. It
 * does not inherit the gate: a joiner is the worker that takes entries past it.
 */
export function spawnJoiner(mapping: string, url: string, job: string, env: Record<string, string>, stdio: StdioOptions = ['ignore', 'inherit', 'inherit']): Joiner {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  delete childEnv.D4_TEST_GATE;
  const child = spawn(process.execPath, [joinerScript, mapping, url, job], { env: childEnv, stdio });
  return { pid: child.pid!, exit: new Promise((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code))) };
}

/**
 * The options of the tests that hold workers at a gate (fixtures 'gated'): entries of five
 * items, one entry per read, so that a worker holds little at a time; entries claimed after
 * 300 ms idle.
 */
export const GATED = { batchSize: 5, readCount: 1, claimIdleMs: 300 } as const;

/** A run going on while the test acts on its workers: `settled` is true once it has ended, either way. */
export function watchRun(run: Promise<unknown>): { readonly settled: boolean } {
  const state = { settled: false };
  run.then(
    () => (state.settled = true),
    () => (state.settled = true),
  );
  return state;
}
