// Seed 003, "store results in a DDict": workers read the files from the shared filesystem
// and put each summary into a distributed dictionary on Redis. The pool's init attaches
// every worker to the dictionary once (Dragon's Pool initializer); the tasks find it in
// their last parameter. Then one result is read back in this process.
// Run: REDIS_URL=redis://127.0.0.1:6379 npx tsx examples/dragon/ddict_results.ts
//   → prints the answers of the six tasks, the dictionary's size and the third file's summary
import { basename } from 'node:path';
import { Executor } from '@d4/executor';
import { DDict, ddictInit } from '@d4/mapping-redis/ddict';
import { dataFiles, storeSummary } from './file-tasks.js';

const dd = await DDict.connect(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { name: 'dragon-file-summaries' });
try {
  const files = dataFiles();
  {
    await using pool = new Executor({ maxWorkers: 2, blockAllocation: true, init: ddictInit({ ddict: dd }) });
    const processed: boolean[] = [];
    for await (const ok of pool.map<boolean>(storeSummary, files)) processed.push(ok);
    console.log(`processed: ${JSON.stringify(processed)}`);
  }
  console.log(`entries: ${await dd.size()}`);
  console.log(`${basename(files[2])}: ${JSON.stringify(await dd.get(files[2]))}`);
} finally {
  await dd.destroy();
}
