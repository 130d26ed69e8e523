import { afterEach, describe, expect, it } from '@jest/globals';
import { execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createTwoHosts, processRuns, type NamespaceHost, type TwoHosts } from '../src/testing/index.js';

const namespaces = (): string[] =>
  execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((line) => line.split(' ')[0])
    .filter(Boolean);

/** Starts a TCP server in `server`'s host and connects from `client`'s; returns what the client read. */
async function reach(hosts: TwoHosts, server: NamespaceHost, client: NamespaceHost, host = server.address): Promise<string> {
  const listening = hosts.spawn(server, process.execPath, [
    '-e',
    `const s = require('node:net').createServer((c) => c.on('data', (d) => { c.end('server got ' + d); s.close(); }));
     s.listen(7311, ${JSON.stringify(server.address)}, () => console.log('listening'));`,
  ]);
  await new Promise<void>((resolve) => listening.stdout!.once('data', () => resolve()));
  const result = await hosts.run(client, process.execPath, [
    '-e',
    `const c = require('node:net').connect(7311, ${JSON.stringify(host)}, () => c.write('hello from ' + ${JSON.stringify(client.name)}));
     c.on('data', (d) => process.stdout.write(String(d))).on('error', (e) => process.stdout.write(e.code));`,
  ]);
  listening.kill();
  return result.stdout;
}
const distHelper = fileURLToPath(new URL('../dist/testing/index.js', import.meta.url));

/** A child node process that makes two hosts with the built helper, prints their names, then runs `then`. */
function childMakingHosts(then: string, killOncePrinted = false): Promise<{ names: string[]; code: number | null; signal: string | null }> {
  const script = `import { createTwoHosts } from ${JSON.stringify(distHelper)};
const hosts = await createTwoHosts();
console.log(JSON.stringify([hosts.a.name, hosts.b.name]));
${then}`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      if (killOncePrinted && out.includes('\n')) child.kill('SIGKILL');
    });
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ names: JSON.parse(out.split('\n')[0]) as string[], code, signal }));
  });
}

describe('two hosts made of network namespaces', () => {
  let hosts: TwoHosts | undefined;
  afterEach(async () => {
    await hosts?.remove();
    hosts = undefined;
  });

  it("joins the hosts by a veth pair: a TCP client in b reaches a server on a's address", async () => {
    hosts = await createTwoHosts();
    const { a, b } = hosts;
    expect(a.address).not.toBe(b.address);
    expect(await reach(hosts, a, b)).toBe(`server got hello from ${b.name}`);
    expect(await reach(hosts, b, a)).toBe(`server got hello from ${a.name}`);
    // Each namespace has its own loopback: a's server is not on b's 127.0.0.1.
    expect(await reach(hosts, a, b, '127.0.0.1')).toBe('ECONNREFUSED');
  });

  it('removes both namespaces and kills what still runs in them, grandchildren too', async () => {
    hosts = await createTwoHosts();
    const { a, b } = hosts;
    expect(namespaces()).toEqual(expect.arrayContaining([a.name, b.name]));
    const shell = hosts.spawn(a, 'sh', ['-c', 'sleep 300 & echo $!; wait'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const grandchild = await new Promise<number>((resolve) => shell.stdout!.once('data', (d: Buffer) => resolve(Number(String(d).trim()))));
    expect(processRuns(grandchild)).toBe(true);
    await hosts.remove();
    expect(namespaces()).not.toContain(a.name);
    expect(namespaces()).not.toContain(b.name);
    expect(processRuns(grandchild)).toBe(false);
    expect(execFileSync('ip', ['-o', 'link'], { encoding: 'utf8' })).not.toContain(a.device);
    await hosts.remove(); // idempotent
  });

  it('gives each pair its own names, so that pairs made at the same time do not collide', async () => {
    const [one, two] = await Promise.all([createTwoHosts(), createTwoHosts()]);
    try {
      expect(new Set([one.a.name, one.b.name, two.a.name, two.b.name]).size).toBe(4);
      expect(await reach(one, one.a, one.b)).toBe(`server got hello from ${one.b.name}`);
      expect(await reach(two, two.b, two.a)).toBe(`server got hello from ${two.a.name}`);
    } finally {
      await Promise.all([one.remove(), two.remove()]);
    }
  });

  it('removes the namespaces when the process exits without calling remove, even by an uncaught error', async () => {
    const exited = await childMakingHosts("setTimeout(() => { throw new Error('a failing test'); }, 10);");
    expect(exited.code).toBe(1);
    expect(namespaces()).not.toContain(exited.names[0]);
    expect(namespaces()).not.toContain(exited.names[1]);
  });

  it('sweeps the namespaces of a run killed outright (SIGKILL) when the next pair is made', async () => {
    const killed = await childMakingHosts('setInterval(() => {}, 1000);', true);
    expect(killed.signal).toBe('SIGKILL');
    expect(namespaces()).toEqual(expect.arrayContaining(killed.names));
    hosts = await createTwoHosts();
    expect(namespaces()).not.toContain(killed.names[0]);
    expect(namespaces()).not.toContain(killed.names[1]);
  });
});
