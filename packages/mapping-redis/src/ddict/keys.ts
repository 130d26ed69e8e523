import { OptionError } from '@d4/core';

/**
 * Every key of a dictionary starts with `d4dict:{<name>}:`. Jobs of the Redis mappings use
 * `d4:{<job>}:` (../keys.ts), so no dictionary key can match a job's key or its cleanup
 * pattern `d4:\{job\}:*`, and the name — letters, digits, '.', '_', '-', no braces or
 * colons — cannot spell another dictionary's prefix. The braces are a Redis Cluster hash
 * tag: a dictionary's keys share one slot.
 */
export interface DictKeys {
  readonly name: string;
  readonly prefix: string;
  /** The key that holds one entry's encoded value. */
  entry(key: string): string;
  /** SCAN pattern that matches every entry of the dictionary and nothing else. */
  readonly pattern: string;
}

const NAME = /^[A-Za-z0-9_.-]{1,100}$/;

export function dictKeys(name: unknown): DictKeys {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new OptionError(`a DDict name must be 1 to 100 letters, digits, '.', '_' or '-' (it becomes part of every key), got ${JSON.stringify(name)}`, 'D4_DDICT_NAME');
  }
  const prefix = `d4dict:{${name}}:e:`;
  return { name, prefix, entry: (key) => prefix + key, pattern: `d4dict:\\{${name}\\}:e:*` };
}
