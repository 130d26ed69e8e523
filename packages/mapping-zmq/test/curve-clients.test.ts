// --curve-clients: the driver's allow-list of worker public keys (a ZAP handler), on one host
// over loopback tcp://: `d4 run` listens with one local worker, and `d4 worker` processes
// join with their own key pairs; an unlisted one is refused, listed ones run the job.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { loadWorkflow, type D4Error } from '@d4/core';
import { mappings } from '../src/index.js';
import { zeromq } from '../src/zeromq.js';
import { fixtures, freePort, waitFor } from './helpers.js';

const cli = fileURLToPath(new URL('../../cli/bin/d4.js', import.meta.url));

interface Ended {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface Started {
  stderr: () => string;
  ended: Promise<Ended>;
}

/** The d4 CLI in a process of its own (killed after 60 s, so that nothing hangs). */
function d4(args: string[]): Started {
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const ended = new Promise<Ended>((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
  return { stderr: () => stderr, ended };
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'd4-zmq-clients-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A fresh key pair in a file, as `--curve-secret-file` takes it. */
function keyFile(name: string): { file: string; publicKey: string } {
  const pair = zeromq().curveKeyPair();
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(pair));
  return { file, publicKey: pair.publicKey };
}

describe('--curve-clients', () => {
  it('lets in only listed workers: an unlisted key and a worker without a key pair are refused (D4_ZMQ_REFUSED, the driver names the key); two listed workers run the job, results exact', async () => {
    const driverKey = keyFile('driver.key');
    const listed = keyFile('listed.key');
    const unlisted = keyFile('unlisted.key');
    const clients = join(dir, 'clients');
    writeFileSync(clients, `# workers that may join\n${listed.publicKey}\n\n`);
    const endpoint = `tcp://127.0.0.1:${await freePort()}`;
    const driver = d4(['run', 'zmq_multi', fixtures, '-a', 'pipeline', '-i', '300', '-n', '3', '--listen', endpoint, '--local', '1', '--curve-secret-file', driverKey.file, '--curve-clients', clients, '--results', 'json']);
    await waitFor(() => driver.stderr().includes('on each other host run:'), 'the driver to print the join command');
    expect(driver.stderr()).toContain(`on each other host run: d4 worker zmq_multi --connect ${endpoint} --curve-server-key '${driverKey.publicKey}' --curve-secret-file <a key pair listed in --curve-clients>`);

    const joinRun = (extra: string[]) => d4(['worker', 'zmq_multi', '--connect', endpoint, '--curve-server-key', driverKey.publicKey, '--connect-timeout', '30', ...extra]).ended;
    const refused = await joinRun(['--curve-secret-file', unlisted.file]);
    expect({ code: refused.code, stderr: refused.stderr }).toMatchObject({ code: 2 });
    expect(refused.stderr).toContain(`the driver at ${endpoint} refused this worker's CURVE key: its public key ${unlisted.publicKey} is not in the driver's --curve-clients list; add it there`);
    const keyless = await joinRun([]);
    expect({ code: keyless.code, stderr: keyless.stderr }).toMatchObject({ code: 2 });
    expect(keyless.stderr).toContain("is not in the driver's --curve-clients list; join with --curve-secret-file holding a key pair the driver lists");

    const joiners = await Promise.all([joinRun(['--curve-secret-file', listed.file]), joinRun(['--curve-secret-file', listed.file])]);
    for (const joiner of joiners) expect(joiner).toMatchObject({ code: 0, stderr: '' });
    const result = await driver.ended;
    expect(result.code).toBe(0);
    const { outputs, stats } = JSON.parse(result.stdout) as { outputs: { Identity2: { output: number[] } }; stats: { workers: number } };
    expect([...outputs.Identity2.output].sort((x, y) => x - y)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    expect(stats.workers).toBe(3);
    expect(result.stderr).toContain(`d4 zmq_multi: refused a worker at 127.0.0.1 connecting to ${endpoint}: its public key ${unlisted.publicKey} is not in --curve-clients ${clients}`);
  });

  it('is refused without --curve-secret-file, and a list with a line that is not a key is refused naming the line', async () => {
    const workflow = await loadWorkflow(fixtures, { exportName: 'pipeline' });
    const clients = join(dir, 'clients');
    writeFileSync(clients, `${keyFile('a.key').publicKey}\nnot-a-key\n`);
    const listen = `tcp://127.0.0.1:${await freePort()}`;
    const noKeys = (await mappings.zmq_multi.run(workflow, { '*': 3 }, { listen, local: 1, curveClients: clients, quiet: true }).catch((e: unknown) => e)) as D4Error;
    expect(noKeys.code).toBe('D4_OPTION');
    expect(noKeys.message).toBe(`--curve-clients ${clients} lists the workers that may join an encrypted run: give --curve-secret-file with the driver's key pair too`);
    const badLine = (await mappings.zmq_multi.run(workflow, { '*': 3 }, { listen, local: 1, curveClients: clients, curveSecretFile: keyFile('driver.key').file, quiet: true }).catch((e: unknown) => e)) as D4Error;
    expect(badLine.code).toBe('D4_ZMQ_KEY');
    expect(badLine.message).toContain(`line 2 of the CURVE client list ${clients} (--curve-clients) is not a public key`);
  });
});
