// Data loaded once per worker (block allocation) and handed to every task by name.
// pympipool: calc(i, j, k) with init {j: 4, k: 3, l: 2} and submit(calc, 2, j=5) gives 2 + 5 + 3.
// In TypeScript the named values are the function's last parameter, an object: the worker
// passes {...init(), ...whatYouGave} there, so j=5 (given) wins over j=4, k=3 comes from init,
// and l is ignored because calc does not destructure it.
// Run: npx tsx examples/executor/init.ts   → prints 10
import { Executor } from '@d4/executor';

function calc(i: number, { j, k }: { j: number; k: number }): number {
  return i + j + k;
}

function initFunction() {
  return { j: 4, k: 3, l: 2 };
}

await using exe = new Executor({ maxCores: 1, blockAllocation: true, init: initFunction });
const fs = exe.submit(calc, 2, { j: 5 });
console.log(await fs.result());
