// Coupled functions: the future of the first call is an argument of the second; the second
// starts as soon as the first is done (a callback, no polling).
// Run: npx tsx examples/executor/coupled.ts   → prints 4
import { Executor } from '@d4/executor';

function calcFunction(parameterA: number, parameterB: number): number {
  return parameterA + parameterB;
}

await using exe = new Executor({ maxCores: 2 });
const future1 = exe.submit(calcFunction, 1, 2);
const future2 = exe.submit(calcFunction, 1, future1);
console.log(await future2.result());
