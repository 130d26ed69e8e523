/**
 * A minimal Redis client for the heartbeat thread (liveness-thread.ts): one socket, RESP2
 * requests pipelined in order, Lua scripts by EVALSHA with EVAL when the server lacks them.
 * Every worker process starts that thread, and loading ioredis there cost 0.1–0.3 s of CPU
 * per process (its modules and dependencies) for the four script calls the thread makes;
 * this needs only node:net (node:tls for rediss://; node:crypto for a script whose SHA1 it was
 * not given).
 *
 * The URL means what it means to ioredis (and the driver and workers, which use ioredis):
 * redis[s]://[user][:password]@host[:port][/db]. A closed connection is opened again by the
 * next call; a call on a connection that fails is rejected with the socket's error.
 */
import { connect as connectTcp, type Socket } from 'node:net';

/** An error reply of the server (ioredis names its own the same way). */
export class ReplyError extends Error {
  override readonly name = 'ReplyError';
}

export type Reply = null | number | string | ReplyError | Reply[];
type Arg = string | number | Buffer;

interface Waiting {
  resolve(reply: Reply): void;
  reject(error: Error): void;
}

/** Connect timeout, as the ioredis clients of d4 have (redis-client.ts). */
const CONNECT_MS = 2000;

export class RespClient {
  private socket: Socket | undefined;
  private opening: Promise<Socket> | undefined;
  private readonly waiting: Waiting[] = [];
  private buffer: Buffer = Buffer.alloc(0);
  private readonly shas: Map<string, string>;

  /** `shas`: the SHA1 of scripts, by source, when the caller has them already (the thread is given them). */
  constructor(
    private readonly url: string,
    shas: ReadonlyMap<string, string> = new Map(),
  ) {
    this.shas = new Map(shas);
  }

  /** Opens the connection (authenticated, on the URL's database); calls open it when needed. */
  async connect(): Promise<void> {
    await this.open();
  }

  /** Runs a Lua script: EVALSHA, and EVAL once when the server does not have it cached. */
  async script(lua: string, keys: readonly string[], args: readonly Arg[]): Promise<Reply> {
    let sha = this.shas.get(lua);
    if (!sha) this.shas.set(lua, (sha = await scriptSha(lua)));
    try {
      return await this.call('EVALSHA', sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof ReplyError) || !error.message.startsWith('NOSCRIPT')) throw error;
      return this.call('EVAL', lua, keys.length, ...keys, ...args);
    }
  }

  /** One command; an error reply rejects with a ReplyError. */
  async call(...args: Arg[]): Promise<Reply> {
    const socket = await this.open();
    return this.send(socket, args);
  }

  close(): void {
    this.socket?.destroy();
  }

  private send(socket: Socket, args: readonly Arg[]): Promise<Reply> {
    return new Promise<Reply>((resolve, reject) => {
      this.waiting.push({
        resolve: (reply) => (reply instanceof ReplyError ? reject(reply) : resolve(reply)),
        reject,
      });
      socket.write(encodeCommand(args));
    });
  }

  private open(): Promise<Socket> {
    if (this.socket) return Promise.resolve(this.socket);
    this.opening ??= this.dial().finally(() => (this.opening = undefined));
    return this.opening;
  }

  private async dial(): Promise<Socket> {
    const url = new URL(this.url);
    const host = url.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
    const port = Number(url.port || 6379);
    const socket: Socket =
      url.protocol === 'rediss:' ? (await import('node:tls')).connect({ host, port, servername: host }) : connectTcp({ host, port });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => socket.destroy(new Error('connect ETIMEDOUT')), CONNECT_MS);
      const failed = (error: Error) => {
        clearTimeout(timer);
        reject(error);
      };
      socket.once('error', failed);
      socket.once(url.protocol === 'rediss:' ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        socket.off('error', failed);
        resolve();
      });
    });
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 10_000);
    socket.on('data', (chunk: Buffer) => {
      try {
        this.received(chunk);
      } catch {
        // Not RESP: nothing after it can be trusted; the waiting calls fail with the close.
        socket.destroy();
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => this.closed(socket));
    const password = decodeURIComponent(url.password);
    const user = decodeURIComponent(url.username);
    const db = Number(url.pathname.slice(1) || 0);
    try {
      if (password) await this.send(socket, user ? ['AUTH', user, password] : ['AUTH', password]);
      if (db) await this.send(socket, ['SELECT', db]);
    } catch (error) {
      socket.destroy();
      throw error;
    }
    this.socket = socket;
    return socket;
  }

  private closed(socket: Socket): void {
    if (this.socket === socket) this.socket = undefined;
    this.buffer = Buffer.alloc(0);
    const error = new Error('Connection is closed.');
    for (const waiting of this.waiting.splice(0)) waiting.reject(error);
  }

  private received(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    let offset = 0;
    for (;;) {
      const parsed = parseReply(this.buffer, offset);
      if (!parsed) break;
      offset = parsed.end;
      this.waiting.shift()?.resolve(parsed.reply);
    }
    this.buffer = offset === this.buffer.length ? Buffer.alloc(0) : this.buffer.subarray(offset);
  }
}

/** The SHA1 EVALSHA names a script by (node:crypto loads only when a client needs it). */
export async function scriptSha(lua: string): Promise<string> {
  const { createHash } = await import('node:crypto');
  return createHash('sha1').update(lua).digest('hex');
}

/** A command as a RESP array of bulk strings. */
export function encodeCommand(args: readonly Arg[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = Buffer.isBuffer(arg) ? arg : Buffer.from(String(arg));
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, CRLF);
  }
  return Buffer.concat(parts);
}

const CRLF = Buffer.from('\r\n');

/** One reply from `offset`, or undefined when the buffer does not hold all of it yet. */
export function parseReply(buffer: Buffer, offset: number): { reply: Reply; end: number } | undefined {
  const lineEnd = buffer.indexOf(CRLF, offset);
  if (lineEnd < 0) return undefined;
  const line = buffer.toString('utf8', offset + 1, lineEnd);
  const next = lineEnd + 2;
  switch (buffer[offset]) {
    case 0x2b: // '+' simple string
      return { reply: line, end: next };
    case 0x2d: // '-' error
      return { reply: new ReplyError(line), end: next };
    case 0x3a: // ':' integer
      return { reply: Number(line), end: next };
    case 0x24: {
      // '$' bulk string
      const length = Number(line);
      if (length < 0) return { reply: null, end: next };
      if (buffer.length < next + length + 2) return undefined;
      return { reply: buffer.toString('utf8', next, next + length), end: next + length + 2 };
    }
    case 0x2a: {
      // '*' array
      const count = Number(line);
      if (count < 0) return { reply: null, end: next };
      const items: Reply[] = [];
      let end = next;
      for (let i = 0; i < count; i++) {
        const item = parseReply(buffer, end);
        if (!item) return undefined;
        items.push(item.reply);
        end = item.end;
      }
      return { reply: items, end };
    }
    default:
      throw new Error(`unexpected reply from Redis: ${JSON.stringify(line.slice(0, 40))}`);
  }
}
