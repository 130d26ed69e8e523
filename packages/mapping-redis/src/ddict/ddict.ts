import type { Redis } from 'ioredis';
import { D4Error, decode, encode, intOption, OptionError } from '@d4/core';
import { checkServer, connectRedis, isConnectionError } from '../connect.js';
import { redactUrl, redisUrlOption } from '../options.js';
import { dictKeys, type DictKeys } from './keys.js';

/** What another process needs to attach to the same dictionary: plain data, so it crosses any codec. */
export interface DDictHandle {
  readonly url: string;
  readonly name: string;
  /** Default time to live of an entry in ms; 0 keeps entries until deleted. */
  readonly ttl: number;
}

export interface DDictOptions {
  /** The dictionary's name: two names never share a key. */
  name: string;
  /** Default time to live of each entry, ms (0 or absent: no expiry). */
  ttl?: number;
}

export interface SetOptions {
  /** This entry's time to live in ms, instead of the dictionary's (0: no expiry). */
  ttl?: number;
}

/** Keys per SCAN page and per UNLINK. */
const PAGE = 500;

/**
 * A dictionary shared by every process that reaches one Redis server, in the manner of
 * Dragon's DDict: string keys, values of any type core's codec carries (one Redis string per
 * entry, so each write is atomic and concurrent writers never lose each other's entries).
 */
export class DDict {
  readonly #redis: Redis;
  readonly #keys: DictKeys;
  readonly #url: string;
  readonly #ttl: number;
  #closed: 'closed' | 'destroyed' | undefined;

  private constructor(redis: Redis, url: string, keys: DictKeys, ttl: number) {
    this.#redis = redis;
    this.#url = url;
    this.#keys = keys;
    this.#ttl = ttl;
  }

  /**
   * Connects and checks the server as the Redis mappings do, before any work: reachable, the
   * password accepted, 6.2 or later, and `maxmemory-policy noeviction` (a policy that evicts
   * would drop entries without a word).
   */
  static async connect(url: string, options: DDictOptions): Promise<DDict> {
    const checked = redisUrlOption({ redisUrl: url });
    const keys = dictKeys(options?.name);
    const ttl = ttlOption(options?.ttl, 'ttl');
    const redis = await connectRedis(checked, `dictionary ${keys.name}`);
    try {
      await checkServer(redis, checked);
    } catch (error) {
      redis.disconnect();
      throw error;
    }
    return new DDict(redis, checked, keys, ttl);
  }

  /** Attaches to a dictionary from its `handle` (in an executor's `init`, a PE, another process). */
  static attach(handle: DDictHandle): Promise<DDict> {
    return DDict.connect(handle.url, { name: handle.name, ttl: handle.ttl });
  }

  get name(): string {
    return this.#keys.name;
  }

  /** Plain data that `DDict.attach` turns back into a dictionary in any process. */
  get handle(): DDictHandle {
    return { url: this.#url, name: this.#keys.name, ttl: this.#ttl };
  }

  async get<T = unknown>(key: string): Promise<T | undefined> {
    const bytes = await this.#run('get', key, (r) => r.getBuffer(this.#entry(key)));
    return bytes === null ? undefined : decode<T>(bytes);
  }

  async set(key: string, value: unknown, options?: SetOptions): Promise<void> {
    const entry = this.#entry(key);
    const bytes = encode(value);
    const ttl = options?.ttl === undefined ? this.#ttl : ttlOption(options.ttl, 'ttl of set()');
    await this.#run('set', key, (r) => (ttl > 0 ? r.set(entry, bytes, 'PX', ttl) : r.set(entry, bytes)));
  }

  async has(key: string): Promise<boolean> {
    return (await this.#run('has', key, (r) => r.exists(this.#entry(key)))) === 1;
  }

  /** Removes the entry; true when it was there. */
  async delete(key: string): Promise<boolean> {
    return (await this.#run('delete', key, (r) => r.unlink(this.#entry(key)))) === 1;
  }

  /**
   * The keys, page by page. SCAN may return a key twice while the dictionary changes; each is
   * yielded once. A key written during the iteration may or may not appear.
   */
  async *keys(): AsyncGenerator<string> {
    const seen = new Set<string>();
    for await (const page of this.#pages()) {
      for (const full of page) {
        const key = full.slice(this.#keys.prefix.length);
        if (!seen.has(key)) {
          seen.add(key);
          yield key;
        }
      }
    }
  }

  /** The number of entries (a scan of the dictionary's keys: O(keys in the database)). */
  async size(): Promise<number> {
    const seen = new Set<string>();
    for await (const page of this.#pages()) for (const key of page) seen.add(key);
    return seen.size;
  }

  /** Removes every entry; the dictionary stays usable. */
  async clear(): Promise<void> {
    for await (const page of this.#pages()) {
      if (page.length > 0) await this.#run('clear', undefined, (r) => r.unlink(...page));
    }
  }

  /** Removes every key of this dictionary from the server and closes this handle. */
  async destroy(): Promise<void> {
    await this.clear();
    this.#closed = 'destroyed';
    await this.#quit();
  }

  /** Closes this handle's connection; the entries stay for other handles. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = 'closed';
    await this.#quit();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async *#pages(): AsyncGenerator<string[]> {
    let cursor = '0';
    do {
      const [next, page] = await this.#run('keys', undefined, (r) => r.scan(cursor, 'MATCH', this.#keys.pattern, 'COUNT', PAGE));
      cursor = next;
      yield page;
    } while (cursor !== '0');
  }

  #entry(key: string): string {
    if (typeof key !== 'string') {
      throw new OptionError(`DDict ${this.#keys.name}: keys are strings, got ${typeof key}; turn the key into a string (String(key) or JSON.stringify(key))`, 'D4_DDICT_KEY');
    }
    return this.#keys.entry(key);
  }

  async #run<T>(operation: string, key: string | undefined, command: (redis: Redis) => Promise<T>): Promise<T> {
    if (this.#closed) {
      throw new D4Error('D4_DDICT_CLOSED', `DDict ${this.#keys.name}: ${operation}() after this handle was ${this.#closed}; attach again with DDict.attach(handle) (a destroyed dictionary starts empty)`);
    }
    try {
      return await command(this.#redis);
    } catch (error) {
      if (error instanceof D4Error) throw error;
      const what = key === undefined ? `${operation}()` : `${operation}(${JSON.stringify(key)})`;
      const why = isConnectionError(error) ? 'the connection to Redis failed' : 'Redis answered with an error';
      throw new D4Error('D4_DDICT_REDIS', `DDict ${this.#keys.name}: ${what} failed at ${redactUrl(this.#url)}: ${why} (${(error as Error).message}); check that redis-server is running there (redis-cli -u ${redactUrl(this.#url)} ping)`, { cause: error });
    }
  }

  async #quit(): Promise<void> {
    await this.#redis.quit().catch(() => this.#redis.disconnect());
  }
}

function ttlOption(value: number | undefined, name: string): number {
  return value === undefined ? 0 : intOption({ [name]: value }, name, 0, 0);
}
