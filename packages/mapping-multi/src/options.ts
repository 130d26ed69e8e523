import { availableParallelism } from 'node:os';
import { intOption, type MappingOption, type RunOptions } from '@d4/core';

export const numProcessesOption = (description: string): MappingOption => ({
  name: 'numProcesses',
  flags: '-n, --num <n>',
  description,
  type: 'number',
});

export const workerMemoryOption: MappingOption = {
  name: 'workerMemory',
  flags: '--worker-memory <mb>',
  description: 'heap limit of each worker thread in MB; a worker that exceeds it fails the run (default: Node’s own limit)',
  type: 'number',
};

export const cores = (): number => availableParallelism();

export function memoryOption(options: RunOptions): number | undefined {
  return options.workerMemory === undefined ? undefined : intOption(options, 'workerMemory', 0, 16);
}
