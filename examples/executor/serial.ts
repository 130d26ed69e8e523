// Four calls of a user-defined function on two workers, run as two pairs.
// Run: npx tsx examples/executor/serial.ts   → prints [3,4,5,6]
import { Executor } from '@d4/executor';

function calc(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

await using exe = new Executor({ maxCores: 2 });
const fs1 = exe.submit(calc, [2, 1]);
const fs2 = exe.submit(calc, [2, 2]);
const fs3 = exe.submit(calc, [2, 3]);
const fs4 = exe.submit(calc, [2, 4]);
console.log(JSON.stringify([await fs1.result(), await fs2.result(), await fs3.result(), await fs4.result()]));
