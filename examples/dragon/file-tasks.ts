// The task functions of the seed-003 examples. They cross to the executor's workers by
// reference (task(import.meta.url, …)): the worker imports this module, so they may use its imports.
import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { task } from '@d4/executor';
import type { DDict } from '@d4/mapping-redis/ddict';

/** What "processing" a file means here: a small summary of its text. */
export interface Summary {
  lines: number;
  words: number;
  longest: string;
}

/** The files of examples/dragon/data, as absolute paths in name order (the directory to process). */
export function dataFiles(): string[] {
  const dir = fileURLToPath(new URL('./data/', import.meta.url));
  return readdirSync(dir)
    .filter((name) => name.endsWith('.txt'))
    .sort()
    .map((name) => join(dir, name));
}

export const summarize = task(import.meta.url, 'summarize', (text: string): Summary => {
  const words = text.split(/\s+/).filter(Boolean);
  const longest = words.reduce((a, b) => (b.length > a.length ? b : a), '');
  return { lines: text.split('\n').filter(Boolean).length, words: words.length, longest };
});

/** Shared filesystem: the worker reads the file itself; only the name crosses. */
export const summarizeFile = task(import.meta.url, 'summarizeFile', async (filename: string): Promise<Summary> => summarize(await readFile(filename, 'utf8')));

/** The same, storing the summary in the dictionary that init attached (Dragon's stash) and answering whether it did. */
export const storeSummary = task(import.meta.url, 'storeSummary', async (filename: string, { ddict }: { ddict: DDict }): Promise<boolean> => {
  try {
    await ddict.set(filename, summarize(await readFile(filename, 'utf8')));
    return true;
  } catch {
    return false;
  }
});
