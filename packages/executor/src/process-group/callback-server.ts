import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';

/** What a rank's wrapper reports on its info connection. */
export type RankReport =
  | { kind: 'info'; rank: number; pid: number; wrapperPid: number; host: string }
  | { kind: 'exit'; rank: number; code: number };

export interface RankEvents {
  /** The settings and argv a fetching rank asks for (srun), NUL-terminated. */
  spec(rank: number): Buffer | undefined;
  report(report: RankReport): void;
  /** A piped stdout or stderr connection of a rank, with the bytes read past its header. */
  stream(rank: number, which: 'stdout' | 'stderr', socket: Socket, head: Buffer): void;
}

/**
 * The TCP server MPI ranks connect back to (see wrapper.ts). Every connection starts with
 * `D4PG <token> <rank> <kind>`; one with another token (another program on the port) is
 * dropped, so nothing but this group's ranks can write into its lines.
 */
export class CallbackServer {
  readonly token = randomBytes(16).toString('hex');
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();

  private constructor(server: Server) {
    this.#server = server;
  }

  static async listen(host: string, events: RankEvents): Promise<CallbackServer & { port: number }> {
    const server = createServer();
    const callback = new CallbackServer(server);
    server.on('connection', (socket) => callback.#accept(socket, events));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, host, () => resolve());
    });
    server.unref();
    const { port } = server.address() as { port: number };
    return Object.assign(callback, { port });
  }

  close(): void {
    this.#server.close();
    for (const socket of this.#sockets) socket.destroy();
  }

  #accept(socket: Socket, events: RankEvents): void {
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    this.#readHeader(socket, events, Buffer.alloc(0));
  }

  #readHeader(socket: Socket, events: RankEvents, already: Buffer): void {
    let buffered = already;
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const newline = buffered.indexOf(10);
      if (newline < 0) {
        if (buffered.length > 256) socket.destroy();
        return;
      }
      socket.off('data', onData);
      const [magic, token, rankText, kind, ...rest] = buffered.subarray(0, newline).toString('utf8').split(' ');
      const rank = Number(rankText);
      if (magic !== 'D4PG' || token !== this.token || !Number.isInteger(rank)) {
        socket.destroy();
        return;
      }
      const head = buffered.subarray(newline + 1);
      if (kind === 'spec') {
        // The same connection then carries the rank's info line and its exit.
        const spec = events.spec(rank);
        if (!spec) return void socket.destroy();
        socket.write(spec);
        this.#readHeader(socket, events, head);
      } else if (kind === 'stdout' || kind === 'stderr') {
        events.stream(rank, kind, socket, head);
      } else if (kind === 'info') {
        const [pid, wrapperPid, host] = rest;
        events.report({ kind: 'info', rank, pid: Number(pid), wrapperPid: Number(wrapperPid), host: host ?? 'localhost' });
        this.#readExits(socket, rank, head, events);
      } else {
        socket.destroy();
      }
    };
    socket.on('data', onData);
    if (already.length > 0) onData(Buffer.alloc(0));
  }

  /** After the info header, the wrapper sends `exit <code>` once its program has ended. */
  #readExits(socket: Socket, rank: number, head: Buffer, events: RankEvents): void {
    let text = head.toString('utf8');
    const scan = () => {
      const match = /exit (\d+)\n/.exec(text);
      if (match) {
        text = '';
        events.report({ kind: 'exit', rank, code: Number(match[1]) });
      }
    };
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
      scan();
    });
    scan();
  }
}
