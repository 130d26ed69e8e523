/**
 * The driver's allow-list of workers (`--curve-clients FILE`): a ZAP handler (ZeroMQ's
 * authentication protocol, RFC 27) on `inproc://zeromq.zap.01`, which libzmq asks during
 * every CURVE handshake with a server socket of this process's context. Without one, any
 * client that holds the driver's public key may join; with it, only the listed public keys
 * (and the local workers, whose key pairs the driver makes) are let in.
 */
import { readFileSync } from 'node:fs';
import type { Router } from 'zeromq';
import { D4Error } from '@d4/core';
import { Z85_KEY } from './options.js';
import { zeromq } from './zeromq.js';

const ZAP_ENDPOINT = 'inproc://zeromq.zap.01';
const Z85 = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#';

/** A binary key (32 bytes, as ZAP hands it) in Z85, as keys are written in files and options. */
export function z85(bytes: Uint8Array): string {
  let text = '';
  for (let i = 0; i < bytes.length; i += 4) {
    let value = ((bytes[i] << 24) | (bytes[i + 1] << 16) | (bytes[i + 2] << 8) | bytes[i + 3]) >>> 0;
    let chunk = '';
    for (let k = 0; k < 5; k++) {
      chunk = Z85[value % 85] + chunk;
      value = Math.floor(value / 85);
    }
    text += chunk;
  }
  return text;
}

/** The public keys of a `--curve-clients` file: one Z85 key per line; blank lines and lines starting with `#` are skipped. */
export function readClientKeys(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new D4Error('D4_ZMQ_KEY', `cannot read the CURVE client list ${file} (--curve-clients): ${(error as Error).message}`, { cause: error });
  }
  const keys: string[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    // '#' is a Z85 character too: only a line that starts with it is a comment.
    if (line === '' || line.startsWith('#')) return;
    if (!Z85_KEY.test(line)) {
      throw new D4Error('D4_ZMQ_KEY', `line ${i + 1} of the CURVE client list ${file} (--curve-clients) is not a public key: each line holds one worker's public key, 40 Z85 characters (the "publicKey" of its --curve-secret-file)`);
    }
    keys.push(line);
  });
  return keys;
}

export interface ZapHandler {
  close(): void;
}

/**
 * Answers ZAP requests: 200 for a CURVE client whose public key is in `allowed`, 400 for
 * any other (libzmq then fails that client's handshake). `onRefused` hears each refusal.
 */
export async function startZapHandler(allowed: ReadonlySet<string>, onRefused: (publicKey: string, address: string) => void): Promise<ZapHandler> {
  const router: Router = new (zeromq().Router)({ linger: 0 });
  try {
    await router.bind(ZAP_ENDPOINT);
  } catch (error) {
    router.close();
    throw new D4Error('D4_ZMQ_ENDPOINT', `zmq_multi cannot check --curve-clients: another ZAP handler is running in this process (${(error as Error).message})`, { cause: error });
  }
  void (async () => {
    try {
      for await (const [routingId, delimiter, version, requestId, , address, , mechanism, credential] of router) {
        const key = mechanism?.toString() === 'CURVE' && credential?.length === 32 ? z85(credential) : '';
        const ok = key !== '' && allowed.has(key);
        if (!ok) onRefused(key || `(${mechanism?.toString() ?? 'no'} mechanism)`, address?.toString() ?? '?');
        await router.send([routingId, delimiter, version ?? '1.0', requestId ?? '', ok ? '200' : '400', ok ? 'OK' : 'not in --curve-clients', '', '']);
      }
    } catch {
      // the handler closed with the run
    }
  })();
  return { close: () => router.close() };
}
