import { createServer, type Server, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { decode } from '@d4/core';
import { FrameReader } from './frames.js';

/**
 * The socket the executor's launched workers connect back to (steps of srun may run on other
 * nodes, so stdio or an IPC channel would not reach them). One per process, opened on first
 * use. Every rank of a worker connects, proves it was started by this process with a random
 * token from its environment, and says which worker and rank it is; the connection is then
 * handed to whoever waits for that worker.
 */

/** The first message of a rank: `[token, workerKey, rank, size]`. */
export type Hello = [string, string, number, number];

export interface RankConnection {
  socket: Socket;
  rank: number;
  size: number;
  /** Messages that came with the hello, in the same chunk. */
  reader: FrameReader;
  setHandler(onMessage: (bytes: Uint8Array) => void): void;
}

interface Listening {
  server: Server;
  host: string;
  port: number;
  token: string;
  waiting: Map<string, (connection: RankConnection) => void>;
}

let listening: Promise<Listening> | undefined;
let users = 0;

/** Opens the socket if needed; `host` is the address workers connect to (and where it listens). */
export function openListener(host: string): Promise<Listening> {
  users++;
  listening ??= new Promise<Listening>((resolve, reject) => {
    const waiting = new Map<string, (connection: RankConnection) => void>();
    const token = randomBytes(24).toString('hex');
    const server = createServer((socket) => accept(socket, token, waiting));
    server.on('error', reject);
    server.listen(0, host, () => {
      server.unref(); // idle workers never keep Node alive (as with the local backends)
      const address = server.address();
      resolve({ server, host, port: typeof address === 'object' && address ? address.port : 0, token, waiting });
    });
  });
  return listening;
}

/** One user fewer; the last one closes the socket. */
export function closeListener(): void {
  if (--users > 0 || !listening) return;
  const done = listening;
  listening = undefined;
  void done.then((l) => l.server.close(), () => undefined);
}

function accept(socket: Socket, token: string, waiting: Map<string, (connection: RankConnection) => void>): void {
  socket.setNoDelay(true);
  let handler: ((bytes: Uint8Array) => void) | undefined;
  let early: Uint8Array[] = [];
  let hello: Hello | undefined;
  const reader = new FrameReader((bytes) => {
    if (hello) {
      if (handler) handler(bytes);
      else early.push(bytes);
      return;
    }
    try {
      hello = decode<Hello>(bytes);
    } catch {
      socket.destroy();
      return;
    }
    const claim = Array.isArray(hello) ? waiting.get(String(hello[1])) : undefined;
    // A connection without the token, or for a worker nobody waits for, is dropped at once.
    if (!claim || hello[0] !== token) {
      socket.destroy();
      return;
    }
    claim({
      socket,
      rank: hello[2],
      size: hello[3],
      reader,
      setHandler(onMessage) {
        handler = onMessage;
        const queued = early;
        early = [];
        for (const bytes of queued) onMessage(bytes);
      },
    });
  });
  socket.on('data', (chunk) => reader.push(chunk));
  socket.on('error', () => socket.destroy());
}
