export { ProcessGroup, multiJoin } from './group.js';
export { GroupProcess } from './process.js';
export type { ProcessTemplate, ProcessGroupOptions, ProcessExit, StdioMode, Joinable } from './types.js';
