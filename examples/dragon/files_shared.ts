// Seed 003, "shared filesystem": only the file names cross; each worker reads its files
// itself, so no file's data flows through this process.
// Run: npx tsx examples/dragon/files_shared.ts   → one line per file
import { basename } from 'node:path';
import { Executor } from '@d4/executor';
import { dataFiles, summarizeFile } from './file-tasks.js';

const files = dataFiles();
await using pool = new Executor({ maxWorkers: 2, blockAllocation: true });
let i = 0;
for await (const summary of pool.map(summarizeFile, files)) console.log(`${basename(files[i++])} ${summary.lines} ${summary.words} ${summary.longest}`);
