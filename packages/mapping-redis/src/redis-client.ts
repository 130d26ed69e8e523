import { Redis } from 'ioredis';

/**
 * The one way d4 makes an ioredis client, for the driver and the workers (their heartbeat
 * threads use the lighter resp-client.ts).
 */

/** The socket error behind ioredis' generic "Connection is closed." */
export const lastErrors = new WeakMap<Redis, Error>();

export function createClient(url: string): Redis {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 2000,
    // No commandTimeout: ioredis leaves its timers running when a connection fails, which
    // keeps a failed process alive. A server that stops answering is caught by the
    // heartbeats instead (see NO_ANSWER_MS).
    keepAlive: 10_000,
    // disconnect() arms this timer and clears it when the socket closes; on a socket that is
    // closed already it would keep the process alive for its whole length (2 s by default).
    disconnectTimeout: 200,
    maxRetriesPerRequest: 1,
    // A few quick retries for a blip; then commands fail instead of queueing for ever.
    retryStrategy: (times) => (times > 3 ? null : 100 * times),
    enableOfflineQueue: true,
  });
  // Errors surface through the commands that fail; without a listener ioredis logs them.
  redis.on('error', (error: Error) => {
    if (!lastErrors.has(redis) || !/closed/i.test(error.message)) lastErrors.set(redis, error);
  });
  return redis;
}
