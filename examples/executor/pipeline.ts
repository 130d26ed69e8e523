// A streaming pipeline in the manner of Dragon's Pool.imap: two executors of different sizes,
// the second consuming the first's results as they come (the stages overlap), fed by a lazy
// source. The task functions live in tasks.ts and cross by reference.
// Run: npx tsx examples/executor/pipeline.ts   → prints 4 lines "word → DIGEST!"
import { Executor } from '@d4/executor';
import { digest, shout } from './tasks.js';

function* words(): Generator<string> {
  yield* ['alpha', 'beta', 'gamma', 'delta'];
}

await using producers = new Executor({ maxWorkers: 1, blockAllocation: true });
await using consumers = new Executor({ maxWorkers: 2, blockAllocation: true });
const source = [...words()];
let i = 0;
for await (const product of consumers.map(shout, producers.map(digest, words(), { chunksize: 2 }))) {
  console.log(`${source[i++]} → ${product}`);
}
