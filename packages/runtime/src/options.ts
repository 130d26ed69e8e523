import { OptionError, type RunOptions } from '@d4/core';

/** Reads a flag option given as a boolean or as the CLI's text ('true', '1', 'false', '0'). */
export function boolOption(options: RunOptions, name: string): boolean {
  const value = options[name];
  if (value === undefined || value === null || value === false) return false;
  if (value === true) return true;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new OptionError(`option ${name} is a flag (true or false), got ${JSON.stringify(value)}`);
}

/** 'count' when nobody needs the values: workers then only count what unconnected outputs get. */
export function resultMode(options: RunOptions): 'stream' | 'count' {
  return options.collect === 'count' && !options.onOutput ? 'count' : 'stream';
}
