/**
 * zmq_multi beside what ZeroMQ itself allows here, in one invocation: the raw rate of 1 KB
 * messages from a PUSH socket in one process to a PULL socket in another (no d4), over tcp
 * and ipc, and whole runs of the `kilobytes` workload (1 KB values through a two-stage
 * pipeline) on zmq_multi over the same transports, taking turns with the raw measurements
 * so that a machine whose speed drifts affects both alike. The goal (issue 14): the
 * pipeline's items per second at least half the raw messages per second.
 *
 *   npx tsx bench/src/zmq-ceiling.ts [--messages N] [--items N] [--reps R]
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Pull, Push } from 'zeromq';
import { runRepetition } from './repetition.js';
import { median } from './stats.js';

const SIZE = 1024;

/** Child: pull `count` messages, then report the time from the first to the last. */
async function puller(endpoint: string, count: number): Promise<void> {
  const pull = new Pull({ receiveHighWaterMark: 1000 });
  pull.connect(endpoint);
  process.send!('ready');
  let first = 0;
  for (let n = 0; n < count; n++) {
    await pull.receive();
    if (n === 0) first = performance.now();
  }
  process.send!({ ms: performance.now() - first }, () => {
    pull.close();
    process.exit(0);
  });
}

/** Messages per second of PUSH (here) to PULL (a child process), 1 KB each. */
async function rawRate(protocol: 'tcp' | 'ipc', count: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'd4zb-'));
  const push = new Push({ sendHighWaterMark: 1000 });
  await push.bind(protocol === 'tcp' ? 'tcp://127.0.0.1:*' : `ipc://${dir}/raw`);
  const child = fork(fileURLToPath(import.meta.url), ['--puller', push.lastEndpoint!, String(count)], { execArgv: process.execArgv, stdio: 'inherit' });
  await new Promise<void>((resolve) => child.once('message', () => resolve()));
  const result = new Promise<number>((resolve) => child.on('message', (m: { ms?: number }) => m.ms !== undefined && resolve(m.ms)));
  const message = Buffer.alloc(SIZE, 7);
  for (let n = 0; n < count; n++) await push.send(message);
  const ms = await result;
  push.close();
  rmSync(dir, { recursive: true, force: true });
  return count / (ms / 1000);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { messages: { type: 'string', default: '200000' }, items: { type: 'string', default: '200000' }, reps: { type: 'string', default: '3' } } });
  const messages = Number(values.messages);
  const items = Number(values.items);
  const reps = Number(values.reps);
  for (const protocol of ['tcp', 'ipc'] as const) {
    const raw: number[] = [];
    const mapped: number[] = [];
    for (let r = 0; r < reps; r++) {
      raw.push(await rawRate(protocol, messages));
      const { report } = await runRepetition({ workload: 'kilobytes', mapping: 'zmq_multi', items, options: { numProcesses: 3, processes: 3, protocol } }, 600_000);
      if (report.kind !== 'ok') throw new Error(`kilobytes on zmq_multi did not run: ${report.kind === 'failed' ? `${report.code}: ${report.message}` : report.reason}`);
      if (report.outputs !== items) throw new Error(`kilobytes on zmq_multi gave ${report.outputs} results, not ${items}`);
      mapped.push(items / (report.runMs / 1000));
    }
    const row = { bench: 'zmq-ceiling', protocol, messageBytes: SIZE, messages, items, reps, rawMessagesPerSecond: Math.round(median(raw)), zmqMultiItemsPerSecond: Math.round(median(mapped)), ratio: Number((median(mapped) / median(raw)).toFixed(3)) };
    process.stdout.write(`${JSON.stringify(row)}\n`);
    process.stderr.write(
      `${protocol}: raw PUSH/PULL ${row.rawMessagesPerSecond.toLocaleString('en-US')} msg/s (1 KB); kilobytes on zmq_multi (3 processes) ${row.zmqMultiItemsPerSecond.toLocaleString('en-US')} items/s: ${row.ratio} of raw (medians of ${reps})\n`,
    );
  }
}

if (process.argv[2] === '--puller') await puller(process.argv[3], Number(process.argv[4]));
else await main();
