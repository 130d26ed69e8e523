export { runCli } from './cli.js';
export type { CliStream, RunCliOptions } from './io.js';
export { EXIT } from './exit-codes.js';
export { formatPrettyOutputs, formatPrettyCounts, formatJSON, formatStats } from './output.js';
export { formatGraphText } from './commands/graph.js';
export { knownMappings, formatMappingList, type MappingEntry } from './commands/list.js';
export { progressText } from './progress.js';
