/**
 * `@d4/runtime/testing`: helpers for the tests of backend packages (not for applications).
 */
export { createTwoHosts, twoHostsUnavailable, processRuns, type TwoHosts, type NamespaceHost, type CommandResult, type RunInHostOptions } from './two-hosts.js';
