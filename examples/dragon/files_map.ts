// Seed 003, "filesystem visible only on one node": this process reads every file, then a
// pool processes the texts in parallel with map (Dragon's Pool.map); the data crosses to
// the workers, so the files need not be visible to them.
// Run: npx tsx examples/dragon/files_map.ts   → one line per file: name, lines, words, longest word
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { Executor } from '@d4/executor';
import { dataFiles, summarize } from './file-tasks.js';

const files = dataFiles();
const texts = files.map((file) => readFileSync(file, 'utf8'));
await using pool = new Executor({ maxWorkers: 2, blockAllocation: true });
let i = 0;
for await (const summary of pool.map(summarize, texts)) console.log(`${basename(files[i++])} ${summary.lines} ${summary.words} ${summary.longest}`);
