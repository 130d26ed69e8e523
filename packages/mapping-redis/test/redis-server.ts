import { spawn, type ChildProcess } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { Redis } from 'ioredis';

/** A redis-server of the test's own on a free port of 127.0.0.1, never the system's. */
export interface TestRedis {
  port: number;
  url: string;
  /** A client for assertions (SCAN, XPENDING, CONFIG). */
  client: Redis;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export async function startRedis(extraArgs: string[] = []): Promise<TestRedis> {
  const port = await freePort();
  const child: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...extraArgs], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let spawnError: Error | undefined;
  child.once('error', (error) => (spawnError = error));
  const password = extraArgs.includes('--requirepass') ? extraArgs[extraArgs.indexOf('--requirepass') + 1] : undefined;
  const url = `redis://${password ? `:${password}@` : ''}127.0.0.1:${port}`;
  // Wait until the port accepts connections, then connect once (a client that failed to
  // connect keeps a timer that would hold the test process open).
  for (let attempt = 0; !(await accepts(port)); attempt++) {
    if (spawnError) throw new Error(`cannot start redis-server (is it installed? apt-get install redis-server): ${spawnError.message}`);
    if (attempt > 200) throw new Error(`redis-server on port ${port} did not start`);
    await new Promise((r) => setTimeout(r, 25));
  }
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => {});
  await client.connect();
  if ((await client.ping()) !== 'PONG') throw new Error(`redis-server on port ${port} did not answer PING`);
  return {
    port,
    url,
    client,
    async stop() {
      await client.quit().catch(() => client.disconnect());
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Every key in the server's current database (SCAN to the end, not one page). */
export async function allKeys(client: Redis): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await client.scan(cursor, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  return keys;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
