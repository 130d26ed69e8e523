// Resources on the executor level and on the call level (pympipool's resource_dict):
// cores per call, thread variables for OpenMP/BLAS, a per-call timeout.
// Run: npx tsx examples/executor/resources.ts   → prints 3 and then the worker's OMP_NUM_THREADS, 2
import { Executor } from '@d4/executor';

function calcFunction(parameterA: number, parameterB: number): number {
  return parameterA + parameterB;
}

function threadSetting(): string | undefined {
  return process.env.OMP_NUM_THREADS;
}

await using exe = new Executor({ maxCores: 2, coresPerWorker: 1 });
const future = exe.submitWith({ cores: 1, threadsPerCore: 1, timeout: 60_000 }, calcFunction, 1, 2);
console.log(await future.result());
// Two cores with one thread each: OMP_NUM_THREADS & co. are 2 in that worker (a child process).
console.log(await exe.submitWith({ cores: 2, threadsPerCore: 1 }, threadSetting));
