import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { PEError, loadWorkflow } from '@d4/core';
import { mappings } from '../src/index.js';
import { fixtures, freePort, hungPid, protocols } from './helpers.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'd4-zmq-test-'));
});
afterEach(() => {
  delete process.env.D4_TEST_HANG_MARKER;
  rmSync(dir, { recursive: true, force: true });
});
const workflow = (name: string) => loadWorkflow(fixtures, { exportName: name });

describe.each(protocols)('over %s://', (protocol) => {
  it('a worker process killed mid-run ends the run with D4_WORKER_DIED naming it, its host, pid and PE', async () => {
    const marker = join(dir, 'hang');
    process.env.D4_TEST_HANG_MARKER = marker;
    const run = mappings.zmq_multi.run(await workflow('hanging'), { '*': 10 }, { numProcesses: 3, processes: 3, protocol });
    run.catch(() => {});
    const pid = await hungPid(marker);
    process.kill(pid, 'SIGKILL');
    const error = (await run.catch((e: unknown) => e)) as Error & { code: string };
    expect(error.code).toBe('D4_WORKER_DIED');
    expect(error.message).toMatch(new RegExp(`^process \\d on ${hostname()} \\(pid ${pid}; PE Hang1 instance 0\\) was killed by SIGKILL before the run finished`));
  });
});

describe('options refused before any worker starts', () => {
  it('--protocol other than ipc or tcp', async () => {
    await expect(mappings.zmq_multi.run(await workflow('pipeline'), { '*': 1 }, { protocol: 'udp' })).rejects.toMatchObject({ code: 'D4_OPTION', message: "--protocol must be ipc or tcp, got 'udp'" });
  });

  it('--listen that is not tcp://HOST:PORT', async () => {
    await expect(mappings.zmq_multi.run(await workflow('pipeline'), { '*': 1 }, { listen: 'localhost:5555' })).rejects.toMatchObject({
      code: 'D4_ZMQ_ENDPOINT',
      message: '--listen localhost:5555 is not a tcp://HOST:PORT endpoint (e.g. tcp://10.0.0.5:5555)',
    });
  });

  it('--listen on an address this host does not have', async () => {
    const error = (await mappings.zmq_multi.run(await workflow('pipeline'), { '*': 1 }, { listen: 'tcp://192.0.2.1:5555' }).catch((e: unknown) => e)) as Error & { code: string };
    expect(error.code).toBe('D4_ZMQ_ENDPOINT');
    expect(error.message).toMatch(/^zmq_multi cannot listen on tcp:\/\/192\.0\.2\.1:5555: .+; give an address of this host and a free port$/);
  });

  it('a CURVE key file that is missing, or not a key pair', async () => {
    const missing = join(dir, 'none.key');
    const missed = (await mappings.zmq_multi.run(await workflow('pipeline'), { '*': 1 }, { curveSecretFile: missing }).catch((e: unknown) => e)) as Error & { code: string };
    expect(missed.code).toBe('D4_ZMQ_KEY');
    expect(missed.message).toContain(`cannot read the CURVE key file ${missing} (--curve-secret-file): ENOENT`);
    const bad = join(dir, 'bad.key');
    writeFileSync(bad, '{"publicKey": "short"}');
    const refused = (await mappings.zmq_multi.run(await workflow('pipeline'), { '*': 1 }, { curveSecretFile: bad }).catch((e: unknown) => e)) as Error & { code: string };
    expect(refused.code).toBe('D4_ZMQ_KEY');
    expect(refused.message).toContain(`the CURVE key file ${bad} (--curve-secret-file) is not a key pair`);
  });
});

describe('joining', () => {
  it('--wait: too few workers joined ends the run naming how many are missing and the join command', async () => {
    const endpoint = `tcp://127.0.0.1:${await freePort()}`;
    // No local worker: one started here had to boot and say hello within the 1 s, which a
    // loaded machine did not always do ("0 came"); the count and the command are the same code.
    const error = (await mappings.zmq_multi
      .run(await workflow('pipeline'), { '*': 5 }, { numProcesses: 3, listen: endpoint, local: 0, wait: 1, quiet: true })
      .catch((e: unknown) => e)) as Error & { code: string };
    expect(error.code).toBe('D4_ZMQ_MISSING_WORKERS');
    expect(error.message).toBe(`zmq_multi waited 1 s (--wait) for 3 worker processes and 0 came: 3 missing; start them on other hosts with: d4 worker zmq_multi --connect ${endpoint}`);
  });

  it('a worker that reaches no driver gives up after --connect-timeout', async () => {
    const endpoint = `tcp://127.0.0.1:${await freePort()}`;
    const error = (await mappings.zmq_multi.worker!({ connect: endpoint, connectTimeout: 1 }).catch((e: unknown) => e)) as Error & { code: string };
    expect(error.code).toBe('D4_ZMQ_UNREACHABLE');
    expect(error.message).toBe(`this worker reached no driver at ${endpoint} within 1 s (--connect-timeout): is the run started, with --listen ${endpoint}, and is the address reachable from ${hostname()}?`);
  });

  it('a worker joined with worker() takes its share of the instances; results exact', async () => {
    const endpoint = `tcp://127.0.0.1:${await freePort()}`;
    const run = mappings.zmq_multi.run(await workflow('pipeline'), { '*': 500 }, { numProcesses: 3, listen: endpoint, local: 2, quiet: true });
    const joined = mappings.zmq_multi.worker!({ connect: endpoint });
    const [result] = await Promise.all([run, joined]);
    expect([...(result.outputs.Identity2.output as number[])].sort((a, b) => a - b)).toEqual(Array.from({ length: 500 }, (_, i) => i + 1));
    expect(result.stats.workers).toBe(3);
  });
});

describe('errors in workers', () => {
  it("a PE that throws fails the run with its id and item, its stack naming the workflow's own file (the compiled copy the workers import early keeps its source map)", async () => {
    const error = await mappings.zmq_multi.run(await loadWorkflow(fixtures, { exportName: 'refusing', args: { bad: 7 } }), { '*': 50 }, { numProcesses: 3 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PEError);
    expect(error).toMatchObject({ code: 'D4_PE_FAILED', peId: 'Refuses1', item: { input: 7 }, phase: 'process' });
    expect((error as PEError).message).toBe('PE Refuses1 failed while processing {"input":7}: item 7 is bad');
    expect((error as PEError).peStack).toContain('fixtures/workflows.ts');
    expect((error as PEError).peStack).not.toContain('.cache/d4');
  });
});
