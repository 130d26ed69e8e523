/**
 * `@d4/core`: the model and the user's API. What only backends need (the engine, port
 * keys, result collectors, …) is in `@d4/core/internal`, re-exported by `@d4/runtime`.
 */
export * from './errors.js';
export * from './error-codes.js';
export * from './pe.js';
export * from './patterns.js';
export * from './graph.js';
export * from './routing.js';
export * from './inputs.js';
export * from './codec.js';
export * from './mapping.js';
export { simpleMapping } from './simple.js';
export { loadWorkflow, rebuildWorkflow, requireWorkflowSource, type LoadWorkflowOptions } from './loader.js';
export { guardProcessExit, peExitError, type PECall } from './exit-guard.js';
export * from './registry.js';
