import { readFileSync } from 'node:fs';
import { D4Error, OptionError, intOption, type MappingOption, type RunOptions } from '@d4/core';

/** The options of zmq_multi: `d4 run` (the driver) and `d4 worker` (a joining worker). */
export const zmqOptions: MappingOption[] = [
  { name: 'numProcesses', flags: '-n, --num <n>', description: "processes (PE instances, assigned with dispel4py's formula); default: max(CPU cores, what the graph needs)", type: 'number' },
  { name: 'partitioned', flags: '-s, --partitioned', description: 'partitioned mode: each partition runs sequentially in one worker', type: 'boolean' },
  { name: 'processes', flags: '--processes <n>', description: 'worker processes that host the PE instances (default: the CPU cores, at most one per instance, at least the most instances of one PE; with --local, one per instance)', type: 'number' },
  { name: 'protocol', flags: '--protocol <ipc|tcp>', description: "on one host: workers talk over ipc:// (default) or loopback tcp://", type: 'string' },
  { name: 'listen', flags: '--listen <endpoint>', description: 'd4 run: accept workers from other hosts at tcp://HOST:PORT (default: this host only, loopback)', type: 'string' },
  { name: 'local', flags: '--local <n>', description: 'd4 run with --listen: worker processes to start on this host; the others join with d4 worker (default: all)', type: 'number' },
  { name: 'wait', flags: '--wait <s>', description: 'd4 run: seconds to wait for workers to join before failing (default: 60)', type: 'number' },
  { name: 'connect', flags: '--connect <endpoint>', description: "d4 worker: the driver's --listen endpoint (the driver prints the command)", type: 'string' },
  { name: 'connectTimeout', flags: '--connect-timeout <s>', description: 'd4 worker: seconds to try reaching the driver before giving up (default: 30)', type: 'number' },
  { name: 'bind', flags: '--bind <address>', description: "d4 worker: the address of this host other workers connect to (default: the one it reaches the driver from)", type: 'string' },
  { name: 'curveSecretFile', flags: '--curve-secret-file <file>', description: "a CURVE key pair (JSON {publicKey, secretKey}): on d4 run the driver's (traffic is then encrypted and workers need --curve-server-key); on d4 worker the worker's own, which a driver with --curve-clients must list", type: 'string' },
  { name: 'curveClients', flags: '--curve-clients <file>', description: 'd4 run with --curve-secret-file: only workers whose CURVE public key is in this file (one per line) may join; each joins with --curve-secret-file holding its key pair', type: 'string' },
  { name: 'curveServerKey', flags: '--curve-server-key <key>', description: "d4 worker: the driver's CURVE public key (Z85, 40 characters)", type: 'string', env: 'ZMQ_CURVE_SERVER_KEY' },
  { name: 'workerMemory', flags: '--worker-memory <mb>', description: "heap limit of each local worker process in MB (Node's --max-old-space-size); a worker that exceeds it fails the run", type: 'number' },
];

export interface CurveKeyPair {
  publicKey: string;
  secretKey: string;
}

export const Z85_KEY = /^[0-9a-zA-Z.\-:+=^!/*?&<>()[\]{}@%$#]{40}$/;

/** Reads the driver's key pair: the JSON zeromq's curveKeyPair() gives. */
export function readKeyFile(file: string): CurveKeyPair {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new D4Error('D4_ZMQ_KEY', `cannot read the CURVE key file ${file} (--curve-secret-file): ${(error as Error).message}`, { cause: error });
  }
  let pair: Partial<CurveKeyPair>;
  try {
    pair = JSON.parse(text) as Partial<CurveKeyPair>;
  } catch {
    pair = {};
  }
  if (typeof pair.publicKey !== 'string' || typeof pair.secretKey !== 'string' || !Z85_KEY.test(pair.publicKey) || !Z85_KEY.test(pair.secretKey)) {
    throw new D4Error(
      'D4_ZMQ_KEY',
      `the CURVE key file ${file} (--curve-secret-file) is not a key pair: it must hold JSON {"publicKey": "<40 Z85 characters>", "secretKey": "<40 Z85 characters>"}; make one with: node -e "import('zeromq').then((z) => console.log(JSON.stringify(z.curveKeyPair())))" > ${file}`,
    );
  }
  return { publicKey: pair.publicKey, secretKey: pair.secretKey };
}

export function checkServerKey(key: string): string {
  if (!Z85_KEY.test(key)) throw new D4Error('D4_ZMQ_KEY', `--curve-server-key must be the driver's CURVE public key, 40 Z85 characters (the driver prints it in its join command); got '${key}'`);
  return key;
}

/** A tcp:// endpoint's host and port, or a D4_ZMQ_ENDPOINT error naming the option. */
export function tcpEndpoint(endpoint: string, option: string): { host: string; port: string } {
  const match = /^tcp:\/\/(\[[^\]]+\]|[^:/]+):(\d+|\*)$/.exec(endpoint);
  if (!match) throw new D4Error('D4_ZMQ_ENDPOINT', `${option} ${endpoint} is not a tcp://HOST:PORT endpoint (e.g. tcp://10.0.0.5:5555)`);
  return { host: match[1], port: match[2] };
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '[::1]' || /^127\./.test(host);
}

export function protocolOption(options: RunOptions): 'ipc' | 'tcp' {
  const protocol = options.protocol ?? 'ipc';
  if (protocol !== 'ipc' && protocol !== 'tcp') throw new OptionError(`--protocol must be ipc or tcp, got '${String(protocol)}'`);
  return protocol;
}

export const secondsOption = (options: RunOptions | Record<string, unknown>, name: string, fallback: number): number => intOption(options as RunOptions, name, fallback, 0) * 1000;

export function memoryOption(options: RunOptions): number | undefined {
  return options.workerMemory === undefined ? undefined : intOption(options, 'workerMemory', 0, 16);
}
