import { connect } from 'node:net';
import type { Redis } from 'ioredis';
import { D4Error, WorkerError } from '@d4/core';
import { redactUrl } from './options.js';
import { createClient, lastErrors } from './redis-client.js';

/**
 * Connects with short timeouts and checks the server before any work: reachable, the
 * password accepted, a version with XAUTOCLAIM (6.2), and an eviction policy that never
 * drops keys (a stream entry evicted mid-run would be an item lost without a trace).
 */
export async function connectRedis(url: string, role: string): Promise<Redis> {
  // A plain TCP probe first: ioredis leaves its connect timer running after a refused
  // connection, which would keep a failed `d4 run` alive for the timeout.
  try {
    await probe(url);
  } catch (error) {
    throw connectionError(url, role, error);
  }
  const redis = createClient(url);
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    redis.disconnect();
    throw connectionError(url, role, lastErrors.get(redis) ?? error);
  }
  return redis;
}

/** A second connection to a server already checked (blocking reads need their own). */
export async function extraConnection(url: string, role: string): Promise<Redis> {
  const redis = createClient(url);
  try {
    await redis.connect();
  } catch (error) {
    redis.disconnect();
    throw connectionError(url, role, lastErrors.get(redis) ?? error);
  }
  return redis;
}

export async function checkServer(redis: Redis, url: string): Promise<void> {
  const info = String(await redis.info('server')) + String(await redis.info('memory'));
  const version = /redis_version:(\S+)/.exec(info)?.[1] ?? '0';
  const [major, minor] = version.split('.').map(Number);
  if (major < 6 || (major === 6 && minor < 2)) {
    throw new D4Error('D4_REDIS_VERSION', `Redis at ${redactUrl(url)} is version ${version}; d4's Redis mappings need 6.2 or later (XAUTOCLAIM); upgrade the server`);
  }
  const policy = /maxmemory_policy:(\S+)/.exec(info)?.[1];
  if (policy && policy !== 'noeviction') {
    throw new D4Error(
      'D4_REDIS_EVICTION',
      `Redis at ${redactUrl(url)} has maxmemory-policy ${policy}, which may evict stream entries under memory pressure and lose items; set it to noeviction (redis-cli CONFIG SET maxmemory-policy noeviction, or maxmemory-policy noeviction in redis.conf), or use another server`,
    );
  }
}

export function connectionError(url: string, role: string, error: unknown): D4Error {
  const message = (error as Error)?.message ?? String(error);
  const where = redactUrl(url);
  if (/WRONGPASS|NOAUTH|invalid password|invalid username-password/i.test(message)) {
    return new D4Error('D4_REDIS_AUTH', `Redis at ${where} refused the ${role}'s credentials (${message}); put the right password in the URL: redis://:PASSWORD@host:port/db (or user:PASSWORD@ for an ACL user)`, { cause: error });
  }
  if (/certificate|self.signed|SSL|TLS|wrong version number/i.test(message)) {
    return new D4Error(
      'D4_REDIS_TLS',
      `the TLS connection to Redis at ${where} failed (${message}); for a server whose certificate a private CA signed, give Node that CA with NODE_EXTRA_CA_CERTS=/path/ca.pem, and use rediss:// only for a TLS port`,
      { cause: error },
    );
  }
  if (/ERR.*DB index|invalid DB index|out of range/i.test(message)) {
    return new D4Error('D4_REDIS_DB', `Redis at ${where} refused the database in the URL (${message}); use a database number the server has (redis://host:port/0)`, { cause: error });
  }
  return new D4Error(
    'D4_REDIS_UNREACHABLE',
    `cannot reach Redis at ${where} from the ${role} (${message || 'connection failed'}); start redis-server there, or pass the right server with --redis-url / REDIS_URL`,
    { cause: error },
  );
}

/**
 * The connection to the server was lost mid-job: said in d4's words (ioredis' own, such as
 * "Reached the max retries per request limit", say nothing to a user), with the socket's
 * error code when there is one.
 */
export function lostError(url: string, job: string, role: string, clients: readonly Redis[], error?: unknown): D4Error {
  const socket = clients.map((c) => lastErrors.get(c)).find((e) => e && (e as NodeJS.ErrnoException).code) as NodeJS.ErrnoException | undefined;
  const code = socket?.code ?? (error as NodeJS.ErrnoException | undefined)?.code;
  const why = code ? `${code}: ` : '';
  const where = redactUrl(url);
  return new WorkerError(
    `the ${role} lost its connection to Redis at ${where} during job ${job} (${why}the server stopped, restarted or closed the connection); the job's items were in that server, so the run stops: check that redis-server is running there and reachable (redis-cli -u ${where} ping), then run again`,
    'D4_REDIS_LOST',
    { cause: error },
  );
}

/** An error of the connection (not an error reply, not one of d4's). */
export function isConnectionError(error: unknown): boolean {
  return !(error instanceof D4Error) && (error as Error)?.name !== 'ReplyError';
}

/** Resolves when the URL's host accepts a TCP connection within the connect timeout. */
function probe(url: string): Promise<void> {
  const parsed = new URL(url);
  const host = parsed.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
  const port = Number(parsed.port || 6379);
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within 2000 ms from ${host}:${port}`));
    }, 2000);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve();
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

export { NO_ANSWER_MS } from './liveness-protocol.js';

/**
 * A failure of the driver as a D4Error: anything but a D4Error comes from Redis (the
 * server went away, or refused a command).
 */
export function redisFailure(error: unknown, url: string, job: string, clients: readonly Redis[]): D4Error {
  if (error instanceof D4Error) return error;
  const message = (error as Error)?.message ?? String(error);
  if (/NOPERM|NOSCRIPT|unknown command|not allowed/i.test(message)) {
    return new D4Error(
      'D4_REDIS_REFUSED',
      `Redis at ${redactUrl(url)} refused a command of job ${job} (${message}); the Redis mappings need streams (XADD, XREADGROUP, XACK, XAUTOCLAIM), EVAL/EVALSHA and SCAN for the keys d4:{*}:*`,
      { cause: error },
    );
  }
  if ((error as Error)?.name === 'ReplyError') {
    return new D4Error('D4_REDIS_ERROR', `Redis at ${redactUrl(url)} answered a command of job ${job} with an error: ${message}`, { cause: error });
  }
  return lostError(url, job, 'driver', clients, error);
}
