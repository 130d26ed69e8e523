import { availableParallelism } from 'node:os';
import { OptionError, intOption, type MappingOption, type RunOptions } from '@d4/core';

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

export function boolOption(options: RunOptions, name: string): boolean {
  const value = options[name];
  if (value === undefined || value === null || value === false) return false;
  if (value === true) return true;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new OptionError(`option ${name} is a flag (true or false), got ${JSON.stringify(value)}`);
}

export function memoryOption(options: RunOptions): number | undefined {
  return options.workerMemory === undefined ? undefined : intOption(options, 'workerMemory', 0, 16);
}

/** 'count' when nobody needs the values: workers then only count what unconnected outputs get. */
export function resultMode(options: RunOptions): 'stream' | 'count' {
  return options.collect === 'count' && !options.onOutput ? 'count' : 'stream';
}
