// pympipool's first example: 1 + 1 with one worker.
// Run: npx tsx examples/executor/sum.ts   → prints 2
import { Executor } from '@d4/executor';

// Self-contained, so it crosses to the worker by source.
function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

await using exe = new Executor({ maxCores: 1 });
const future = exe.submit(sum, [1, 1]);
console.log(await future.result());
