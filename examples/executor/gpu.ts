// pympipool's GPU example: two workers with one GPU each, each reporting what it was given.
// Run inside a SLURM allocation with GPUs: salloc -n 2 --gpus=2 npx tsx examples/executor/gpu.ts
// → prints one line per worker: {"host":…,"gpus":"0"} and {"host":…,"gpus":"1"} (SLURM picks the ids)
import { Executor } from '@d4/executor';

// pympipool asks TensorFlow for the GPUs it sees; a Node worker sees what CUDA would see.
async function availableGpus() {
  const { hostname } = await import('node:os');
  // Hold the worker a moment, so the two calls run on the two workers at once.
  await new Promise((resolve) => setTimeout(resolve, 200));
  return { host: hostname(), gpus: process.env.CUDA_VISIBLE_DEVICES ?? '', step: `${process.env.SLURM_JOB_ID}.${process.env.SLURM_STEP_ID}` };
}

await using exe = new Executor({ maxWorkers: 2, gpusPerWorker: 1, blockAllocation: true });
const [first, second] = await Promise.all([exe.submit(availableGpus), exe.submit(availableGpus)]);
for (const seen of [first, second].sort((a, b) => a.gpus.localeCompare(b.gpus))) console.log(JSON.stringify(seen));
