import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, expect, it } from '@jest/globals';
import { processRuns } from '@d4/runtime/testing';
import { fixtures, hungPid } from './helpers.js';

const cli = fileURLToPath(new URL('../../cli/bin/d4.js', import.meta.url));
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'd4-zmq-int-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** The pids whose parent is `pid` (from /proc). */
function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((name) => {
      try {
        return Number(/^\d+ \(.*\) \S (\d+)/.exec(readFileSync(`/proc/${name}/stat`, 'utf8'))?.[1]) === pid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

it('SIGINT to the driver stops every worker process and exits 130, with no hang', async () => {
  const marker = join(dir, 'hang');
  const driver = spawn(process.execPath, [cli, 'run', 'zmq_multi', fixtures, '-a', 'hanging', '-i', '10', '-n', '3', '--processes', '3'], {
    env: { ...process.env, D4_TEST_HANG_MARKER: marker },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  driver.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exit = new Promise<number | null>((resolve) => driver.once('close', (code) => resolve(code)));
  const hung = await hungPid(marker);
  const workers = childrenOf(driver.pid!);
  expect(workers).toHaveLength(3);
  expect(workers).toContain(hung);
  driver.kill('SIGINT');
  expect(await exit).toBe(130);
  expect(stderr).toContain('d4: interrupted; stopping');
  expect(workers.filter(processRuns)).toEqual([]);
});
