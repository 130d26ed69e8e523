// zmq_multi across two hosts made of network namespaces joined by a veth pair: the driver
// (`d4 run … --listen tcp://A:PORT --local 1`) in one, workers joining from the other with
// the command the driver printed; with and without CURVE, and a worker with a wrong key.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { curveKeyPair } from 'zeromq';
import { createTwoHosts, type CommandResult, type TwoHosts } from '@d4/runtime/testing';
import { fixtures, hungPid, waitFor } from './helpers.js';

const cli = fileURLToPath(new URL('../../cli/bin/d4.js', import.meta.url));
const PORT = 5571;

let hosts: TwoHosts;
let dir: string;
beforeEach(async () => {
  hosts = await createTwoHosts();
  dir = mkdtempSync(join(tmpdir(), 'd4-zmq-hosts-'));
});
afterEach(async () => {
  await hosts?.remove();
  rmSync(dir, { recursive: true, force: true });
});

interface Driver {
  stderr: () => string;
  exit: Promise<CommandResult>;
  pid: number;
}

/** `d4 run zmq_multi` in host a, listening on a's address, with one local worker of three. */
function startDriver(exportName: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}): Driver {
  const args = [cli, 'run', 'zmq_multi', fixtures, '-a', exportName, '-i', '300', '-n', '3', '--listen', `tcp://${hosts.a.address}:${PORT}`, '--local', '1', '--wait', '60', '--results', 'json', ...extra];
  const child = hosts.spawn(hosts.a, process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exit = new Promise<CommandResult>((resolve) => child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { stderr: () => stderr, exit, pid: child.pid! };
}

/** The join command the driver printed, run as it is (through sh) in host b with d4 being the CLI. */
async function printedJoinCommand(driver: Driver): Promise<string> {
  let ended = false;
  void driver.exit.then(() => (ended = true));
  await waitFor(() => /on each other host run: (.*)\n/.test(driver.stderr()) || ended, 'the driver to print the join command');
  const command = /on each other host run: (.*)\n/.exec(driver.stderr())?.[1];
  if (!command) throw new Error(`the driver printed no join command: ${driver.stderr()}`);
  return command;
}

const joinFromB = (command: string, extra = ''): Promise<CommandResult> => hosts.run(hosts.b, 'sh', ['-c', `${command.replace(/^d4 /, `${process.execPath} ${cli} `)}${extra}`], { env: process.env });

function expectExactPipeline(result: CommandResult): void {
  expect(result).toMatchObject({ code: 0 });
  const { outputs, stats } = JSON.parse(result.stdout) as { outputs: { Identity2: { output: number[] } }; stats: { workers: number } };
  expect([...outputs.Identity2.output].sort((x, y) => x - y)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
  expect(stats.workers).toBe(3);
}

describe('zmq_multi across two hosts', () => {
  it('without CURVE: two workers join from host b with the printed command; results exact, and a warning for the open --listen', async () => {
    const driver = startDriver('pipeline');
    const command = await printedJoinCommand(driver);
    expect(command).toBe(`d4 worker zmq_multi --connect tcp://${hosts.a.address}:${PORT}`);
    const joiners = await Promise.all([joinFromB(command), joinFromB(command)]);
    for (const joiner of joiners) expect(joiner).toMatchObject({ code: 0, stderr: '' });
    const result = await driver.exit;
    expectExactPipeline(result);
    expect(result.stderr).toContain(`d4 zmq_multi: warning: listening on tcp://${hosts.a.address}:${PORT}, not a loopback address, without CURVE`);
  });

  it('with CURVE: workers with the server key join (no warning); a worker with a wrong key is refused, and the driver reports it', async () => {
    const keyFile = join(dir, 'driver.key');
    const pair = curveKeyPair();
    writeFileSync(keyFile, JSON.stringify(pair));
    const driver = startDriver('pipeline', ['--curve-secret-file', keyFile]);
    const command = await printedJoinCommand(driver);
    expect(command).toBe(`d4 worker zmq_multi --connect tcp://${hosts.a.address}:${PORT} --curve-server-key '${pair.publicKey}'`);

    const wrongKey = curveKeyPair().publicKey;
    const wrong = await joinFromB(`d4 worker zmq_multi --connect tcp://${hosts.a.address}:${PORT} --curve-server-key '${wrongKey}' --connect-timeout 20`);
    expect(wrong.code).toBe(2); // a usage error: the key given is wrong
    expect(wrong.stderr).toContain(`the driver at tcp://${hosts.a.address}:${PORT} refused this worker's CURVE handshake: --curve-server-key is not the driver's public key`);
    const plain = await joinFromB(`d4 worker zmq_multi --connect tcp://${hosts.a.address}:${PORT} --connect-timeout 20`);
    expect(plain.code).toBe(2);
    expect(plain.stderr).toContain("refused this worker's CURVE handshake: the driver encrypts its runs: give --curve-server-key with its public key");

    const joiners = await Promise.all([joinFromB(command), joinFromB(command)]);
    for (const joiner of joiners) expect(joiner).toMatchObject({ code: 0, stderr: '' });
    const result = await driver.exit;
    expectExactPipeline(result);
    expect(result.stderr).toContain(`d4 zmq_multi: refused a worker connecting to tcp://${hosts.a.address}:${PORT}: its handshake failed`);
    expect(result.stderr).not.toContain('warning');
  });

  it('a joined worker killed mid-run ends the run naming it and its host; the other workers stop', async () => {
    const marker = join(dir, 'hang');
    const driver = startDriver('hanging');
    const command = await printedJoinCommand(driver);
    // Only host b's workers hang: the one killed is a joined one.
    const joiners = [0, 1].map(() => hosts.spawn(hosts.b, 'sh', ['-c', `exec ${command.replace(/^d4 /, `${process.execPath} ${cli} `)}`], { env: { ...process.env, D4_TEST_HANG_MARKER: marker }, stdio: 'ignore' }));
    const joinersExit = joiners.map((child) => new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code))));
    const pid = await hungPid(marker);
    process.kill(pid, 'SIGKILL');
    const result = await driver.exit;
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`process \\d on [^ ]+ \\(pid ${pid}, joined; PE Hang1 instance \\d\\) disconnected before the run finished: it died, or [^ ]+ became unreachable \\(D4_WORKER_DIED\\)`));
    // The other joiner is told the run failed and leaves.
    const codes = await Promise.all(joinersExit);
    expect(codes.sort()).toEqual([1, null].sort());
  });
});
