import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, test } from '@jest/globals';
import { LocalProcesses, exitReason, type LocalProcess } from '../src/index.js';

const entry = fileURLToPath(new URL('./fixtures/local-process.mjs', import.meta.url));
let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function until(condition: () => boolean): Promise<void> {
  const end = Date.now() + 20_000;
  while (!condition()) {
    if (Date.now() > end) throw new Error('the worker processes did not get there in 20 s');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('LocalProcesses: the worker processes a driver starts on its host', () => {
  test('workers go round robin over the processes, each gets its configuration, an exit mid-run is reported, stop() ends the rest', async () => {
    dir = mkdtempSync(join(tmpdir(), 'd4-local-'));
    const exits: { workers: string[]; code: number | null; signal: string | null }[] = [];
    let stopped = false;
    const locals = new LocalProcesses<string>({
      entry,
      envName: 'D4_TEST_WORKER',
      stopped: () => stopped,
      fail: (error) => {
        throw error;
      },
      onExit: (local: LocalProcess<string>, code, signal) => exits.push({ workers: local.workers, code, signal }),
    });
    // Process 0 exits with 7 by itself; process 1 hangs until stop() kills it.
    await locals.spawn(['w0', 'w1', 'w2'], 2, (own) => ({ workers: own, file: join(dir, `${own[0]}.json`), code: own[0] === 'w0' ? 7 : 'hang' }));
    expect(locals.processes.map((p) => p.workers)).toEqual([['w0', 'w2'], ['w1']]);
    await until(() => existsSync(join(dir, 'w0.json')) && existsSync(join(dir, 'w1.json')) && exits.length === 1);
    expect(JSON.parse(readFileSync(join(dir, 'w0.json'), 'utf8'))).toEqual(['w0', 'w2']);
    expect(JSON.parse(readFileSync(join(dir, 'w1.json'), 'utf8'))).toEqual(['w1']);
    expect(exits).toEqual([{ workers: ['w0', 'w2'], code: 7, signal: null }]);
    expect(locals.anyAlive).toBe(true);
    stopped = true;
    await locals.stop(0);
    expect(locals.anyAlive).toBe(false);
    expect(locals.processes[1].child.signalCode).toBe('SIGTERM');
    expect(exits).toHaveLength(1); // exits after the run stopped are expected, not reported
  });

  test('exitReason says a signal, the transport\'s lost-connection code, or the exit code', () => {
    expect(exitReason(null, 'SIGKILL', 69, 'Redis')).toBe('died (SIGKILL)');
    expect(exitReason(69, null, 69, 'Redis')).toBe('lost its connection to Redis and stopped');
    expect(exitReason(3, null, 69, 'Redis')).toBe('died (exit code 3)');
  });
});
