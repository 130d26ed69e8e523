export { DDict, type DDictHandle, type DDictOptions, type SetOptions } from './ddict.js';
export { ddictInit } from './init.js';
