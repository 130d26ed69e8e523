/**
 * `@d4/core/internal`: what only backends use. Applications import `@d4/core`; mapping
 * packages get these through `@d4/runtime`, which re-exports them. The name says it: no
 * stability promise beyond the runtime's.
 *
 * It is a second entry of the same bundle as `@d4/core` (shared chunks), so a class
 * reached from both (PEError, LocalEngine, …) exists once.
 */
export { LocalEngine, inputsMaker, topologicalOrder, unconnectedPorts, portKey, type EngineConfig } from './engine.js';
export { feedRoot, abortError } from './simple.js';
export { OutputCollector, emptyStats, mergeStats } from './collector.js';
export { refuseStatefulPEs } from './stateless.js';
export { COMPILED_WORKFLOW_DIR } from './loader.js';
