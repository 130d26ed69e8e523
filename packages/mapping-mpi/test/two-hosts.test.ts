import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTwoHosts, type TwoHosts } from '@d4/runtime/testing';
import { d4Bin, fixtures } from './helpers.js';

/**
 * A run across two hosts made of network namespaces joined by a veth pair: d4 starts
 * mpiexec in host a with a hostfile naming both addresses (two slots each); Open MPI starts
 * its daemon on b through an rsh agent that enters b's namespace, and the ranks talk over
 * TCP on the veth pair's subnet only (--mca btl tcp,self, interface filters by subnet).
 */
describe('mpi across two hosts (network namespaces, a veth pair, a hostfile)', () => {
  let hosts: TwoHosts;
  let dir: string;

  beforeAll(async () => {
    hosts = await createTwoHosts();
    dir = mkdtempSync(join(tmpdir(), 'd4-mpi-hosts-'));
  });
  afterAll(async () => {
    await hosts?.remove();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('every item is processed once, on ranks of both hosts', async () => {
    const { a, b } = hosts;
    const agent = join(dir, 'agent.sh');
    // Open MPI calls the agent as `agent <host> <command>`: run the command inside that host's namespace.
    writeFileSync(agent, `#!/bin/sh\nhost="$1"; shift\ncase "$host" in\n  ${a.address}) ns=${a.name} ;;\n  ${b.address}) ns=${b.name} ;;\n  *) echo "agent: unknown host $host" >&2; exit 1 ;;\nesac\nexec ip netns exec "$ns" /bin/sh -c "$*"\n`);
    chmodSync(agent, 0o755);
    const hostfile = join(dir, 'hosts');
    writeFileSync(hostfile, `${a.address} slots=2\n${b.address} slots=2\n`);
    const subnet = `${a.address.replace(/\.\d+$/, '.0')}/24`;
    const mpiexecArgs = `--mca plm_rsh_agent ${agent} --mca btl tcp,self --mca btl_tcp_if_include ${subnet} --mca oob_tcp_if_include ${subnet}`;

    const r = await hosts.run(a, process.execPath, [d4Bin, 'run', 'mpi', fixtures, '-a', 'whereabouts', '-i', '300', '-n', '4', '--hostfile', hostfile, '--mpiexec-args', mpiexecArgs, '--results', 'json'], { timeoutMs: 90_000 });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    const outputs = (JSON.parse(r.stdout) as { outputs: Record<string, Record<string, Array<[number, string]>>> }).outputs;
    const seen = outputs.Where1.output;
    expect(seen.map(([n]) => n).sort((x, y) => x - y)).toEqual(Array.from({ length: 300 }, (_, i) => i));
    // A namespace file's inode is the number in /proc/<pid>/ns/net's "net:[N]".
    const namespaceOf = (name: string) => `net:[${statSync(`/run/netns/${name}`).ino}]`;
    expect(new Set(seen.map(([, ns]) => ns))).toEqual(new Set([namespaceOf(a.name), namespaceOf(b.name)]));
  });
});
