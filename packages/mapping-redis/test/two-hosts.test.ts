// A job across two hosts: the Redis server and the driver (`d4 run`) in one network
// namespace, a worker joining from the other with the command the driver printed, over a
// veth pair (no loopback between them).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { createTwoHosts, type TwoHosts } from '@d4/runtime/testing';
import { fixtures, range, waitFor } from './helpers.js';

const cli = fileURLToPath(new URL('../../cli/bin/d4.js', import.meta.url));
const REDIS_PORT = 6390;

let hosts: TwoHosts;
let dir: string;
beforeEach(async () => {
  hosts = await createTwoHosts();
  dir = mkdtempSync(join(tmpdir(), 'd4-redis-hosts-'));
});
afterEach(async () => {
  await hosts?.remove();
  rmSync(dir, { recursive: true, force: true });
});

/** redis-server on host a's address (so b reaches it over the veth), ready for commands. Protected mode
 * (loopback only without a password) is off: the namespaces are the test's own. */
async function startRedisOnA(): Promise<string> {
  hosts.spawn(hosts.a, 'redis-server', ['--port', String(REDIS_PORT), '--bind', hosts.a.address, '--save', '', '--appendonly', 'no', '--protected-mode', 'no'], { stdio: 'ignore' });
  for (let attempt = 0; ; attempt++) {
    const ping = await hosts.run(hosts.b, 'redis-cli', ['-h', hosts.a.address, '-p', String(REDIS_PORT), 'ping']);
    if (ping.stdout.trim() === 'PONG') break;
    if (attempt > 200) throw new Error(`redis-server on ${hosts.a.address}:${REDIS_PORT} did not answer from host b: ${ping.stdout}${ping.stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return `redis://${hosts.a.address}:${REDIS_PORT}`;
}

describe.each(['dyn_redis', 'hybrid_redis'] as const)('%s across two hosts', (mapping) => {
  test('a worker on the other host joins with the printed command and takes part; results exact', async () => {
    const url = await startRedisOnA();
    const gate = join(dir, 'gate');
    // The driver's local worker waits on every item until the joiner has run one, so the
    // joiner surely takes part (the namespaces share the file system, not the network); one
    // item per entry leaves entries for the joiner beyond what the local worker reads at once.
    const driver = hosts.spawn(hosts.a, process.execPath, [cli, 'run', mapping, fixtures, '-a', 'gated', '-i', '100', '-n', '1', '--batch', '1', '--results', 'json', '--verbose', '--redis-url', url], {
      env: { ...process.env, D4_TEST_GATE: gate },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    driver.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    driver.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const driverExit = new Promise<number | null>((resolve) => driver.once('close', (code) => resolve(code)));
    let driverEnded = false;
    void driverExit.then(() => (driverEnded = true));

    await waitFor(() => /join from another host with: (.*)\n/.test(stderr) || driverEnded, 'the driver to print the join command');
    const joinCommand = /join from another host with: (.*)\n/.exec(stderr)?.[1];
    expect(joinCommand).toMatch(new RegExp(`^d4 worker ${mapping} --redis-url ${url.replace(/\./g, '\\.')} --job [0-9a-f]+$`));
    const [d4, ...args] = joinCommand!.split(' ');
    expect(d4).toBe('d4');
    const joiner = await hosts.run(hosts.b, process.execPath, [cli, ...args], { env: { ...process.env, D4_TEST_OPEN_GATE: gate } });
    expect(joiner).toMatchObject({ code: 0, stderr: '' });

    expect(await driverExit).toBe(0);
    const { outputs } = JSON.parse(stdout) as { outputs: Record<string, Record<string, number[]>> };
    expect(Object.keys(outputs)).toEqual(['Identity2']);
    expect([...outputs.Identity2.output].sort((x, y) => x - y)).toEqual(range(1, 100));
    // "done; 2 workers (L0@host: n items, <joiner>@host: m items)": both ran items, 200 in all.
    const done = /done; 2 workers \((.*)\)/.exec(stderr);
    expect(done).not.toBeNull();
    const items = Object.fromEntries(done![1].split(', ').map((part) => [part.split('@')[0], Number(/: (\d+) items/.exec(part)![1])]));
    const joined = Object.keys(items).find((consumer) => consumer !== 'L0')!;
    expect(items[joined]).toBeGreaterThan(0);
    expect(Object.values(items).reduce((n, m) => n + m, 0)).toBe(200);
    // Nothing of the job is left on the server.
    const keys = await hosts.run(hosts.a, 'redis-cli', ['-h', hosts.a.address, '-p', String(REDIS_PORT), '--scan']);
    expect(keys.stdout.trim()).toBe('');
  });
});
