/**
 * Socket settings shared by the driver and the workers: CURVE (each side's keys), and
 * ZeroMQ's own heartbeats on the driver's connections, answered by ZeroMQ's I/O thread,
 * so a worker busy in a long synchronous PE call is not taken for dead, while a host that
 * vanishes is noticed.
 */
export type { CurveKeyPair } from './options.js';
import type { CurveKeyPair } from './options.js';

export const HEARTBEAT = { heartbeatInterval: 1000, heartbeatTimeout: 10_000, heartbeatTimeToLive: 10_000 };

/**
 * Options of a socket that connects to `endpoint`. Over ipc:// (local workers) the other
 * side may not have bound yet: the driver starts its workers before it binds, and workers
 * given their job at spawn connect to peers still booting. ZeroMQ then retries the connect
 * after 100 ms by default; 10 ms here (a local socket file, not a remote host).
 */
export function reconnectFor(endpoint: string): Record<string, unknown> {
  return endpoint.startsWith('ipc://') ? { reconnectInterval: 10 } : {};
}

/** Options of a socket that binds: a CURVE server with its own secret key when the run is encrypted. */
export function curveServer(keys: CurveKeyPair | undefined): Record<string, unknown> {
  return keys ? { curveServer: true, curveSecretKey: keys.secretKey, curvePublicKey: keys.publicKey } : {};
}

/** Options of a socket that connects to a CURVE server whose public key is `serverKey`. */
export function curveClient(keys: CurveKeyPair | undefined, serverKey: string | undefined): Record<string, unknown> {
  if (!keys || !serverKey) return {};
  return { curveServerKey: serverKey, curvePublicKey: keys.publicKey, curveSecretKey: keys.secretKey };
}

type SocketEvent = { type: string; error?: Error };

/**
 * Calls `handlers[event.type]` for each event of the socket until it closes. The events are
 * read from the observer directly: zeromq.js's `events.on()` builds its EventEmitter with a
 * `require` of the module registry that first loaded zeromq, which Jest tears down between
 * test files while the native Observer class (and that getter on it) lives on.
 */
export function onEvents(socket: { events: AsyncIterable<SocketEvent> }, handlers: Record<string, (event: SocketEvent) => void>): void {
  void (async () => {
    try {
      for await (const event of socket.events) handlers[event.type]?.(event);
    } catch {
      // the socket closed
    }
  })();
}
