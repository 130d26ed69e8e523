// The same four calls through map(), which yields results in input order.
// Run: npx tsx examples/executor/map.ts   → prints [3,4,5,6]
import { Executor } from '@d4/executor';

function calc(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

await using exe = new Executor({ maxCores: 2 });
const results: number[] = [];
for await (const value of exe.map(calc, [[2, 1], [2, 2], [2, 3], [2, 4]])) results.push(value);
console.log(JSON.stringify(results));
