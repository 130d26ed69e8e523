import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encode, decode } from '@d4/core';
import type { FnSpec } from './protocol.js';

/**
 * Results on disk, keyed by a hash of the function's identity and its arguments. The
 * identity of a function sent by source is its source text; of a function sent by
 * reference, its module, export name and the module file's content, so editing the module
 * invalidates its entries. Files are msgpack (core's codec), written to a temporary name
 * and renamed, so a reader never sees half a file. Failures are not cached.
 */
export class ResultCache {
  readonly directory: string;
  #ready: Promise<unknown> | undefined;
  #moduleHashes = new Map<string, Promise<string>>();
  #writes = new Set<Promise<void>>();

  constructor(directory: string) {
    this.directory = directory;
  }

  async key(spec: FnSpec, args: readonly unknown[], chunk: boolean): Promise<string> {
    const identity = spec.k === 'src' ? `src:${spec.source}` : `ref:${spec.module}#${spec.exportName}@${await this.#moduleHash(spec.module)}`;
    const hash = createHash('sha256');
    hash.update(identity);
    hash.update(chunk ? '\0chunk\0' : '\0call\0');
    hash.update(encode(args));
    return hash.digest('hex');
  }

  /** The stored result, or undefined on a miss (or an unreadable entry, which is then recomputed). */
  async read(key: string): Promise<{ value: unknown } | undefined> {
    let bytes: Buffer;
    try {
      bytes = await readFile(this.#path(key));
    } catch {
      return undefined;
    }
    try {
      const entry = decode<{ v: unknown }>(bytes);
      return { value: entry.v };
    } catch {
      return undefined;
    }
  }

  write(key: string, value: unknown): void {
    let bytes: Buffer;
    try {
      bytes = encode({ v: value });
    } catch {
      return; // the value already crossed the codec once, so this does not happen
    }
    const write = (async () => {
      this.#ready ??= mkdir(this.directory, { recursive: true });
      await this.#ready;
      const temp = `${this.#path(key)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
      try {
        await writeFile(temp, bytes);
        await rename(temp, this.#path(key));
      } catch (error) {
        await unlink(temp).catch(() => undefined);
        process.emitWarning(`@d4/executor could not store a result in ${this.directory}: ${(error as Error).message}`, 'D4ExecutorWarning');
      }
    })();
    this.#writes.add(write);
    void write.finally(() => this.#writes.delete(write));
  }

  /** Resolves when every write started so far is on disk. */
  async flush(): Promise<void> {
    while (this.#writes.size) await Promise.all([...this.#writes]);
  }

  #path(key: string): string {
    return join(this.directory, `${key}.msgpack`);
  }

  #moduleHash(module: string): Promise<string> {
    let hash = this.#moduleHashes.get(module);
    if (!hash) {
      hash = (async () => {
        if (!module.startsWith('file:')) return 'package';
        try {
          return createHash('sha256').update(await readFile(fileURLToPath(module))).digest('hex');
        } catch {
          return 'unreadable';
        }
      })();
      this.#moduleHashes.set(module, hash);
    }
    return hash;
  }
}
