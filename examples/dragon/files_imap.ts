// Seed 003, "lazily read data": the same processing, but the files are read one by one as
// the pool asks for work (Dragon's imap over a reader with chunk_size=4), so reading and
// processing overlap and no more than the chunks in flight are held in memory.
// Run: npx tsx examples/dragon/files_imap.ts   → one line per file, then the number of files read
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { Executor } from '@d4/executor';
import { dataFiles, summarize } from './file-tasks.js';

/** Dragon's DataReader: an iterator that reads the next file only when it is asked for it. */
class DataReader implements Iterable<string> {
  readonly filenames: string[];
  reads = 0;
  constructor(filenames: string[]) {
    this.filenames = filenames;
  }
  *[Symbol.iterator](): Iterator<string> {
    for (const filename of this.filenames) {
      this.reads++;
      yield readFileSync(filename, 'utf8');
    }
  }
}

const reader = new DataReader(dataFiles());
await using pool = new Executor({ maxWorkers: 2, blockAllocation: true });
let i = 0;
// Chunks of 4 texts per task; map pulls the reader only as chunks go out (at most
// 2 × maxWorkers chunks in flight), so an endless reader would not fill memory.
for await (const summary of pool.map(summarize, reader, { chunksize: 4 })) {
  console.log(`${basename(reader.filenames[i++])} ${summary.lines} ${summary.words} ${summary.longest}`);
}
console.log(`files read: ${reader.reads}`);
