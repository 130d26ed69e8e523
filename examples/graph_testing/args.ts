import { WorkflowLoadError } from '@d4/core';

/**
 * Reads an integer argument of a workflow factory (the JSON arguments a worker passes when
 * it rebuilds the graph). A wrong value is refused before the run starts.
 */
export function intArg(args: unknown, name: string, fallback: number, min = Number.MIN_SAFE_INTEGER): number {
  if (args === undefined || args === null) return fallback;
  if (typeof args !== 'object' || Array.isArray(args)) {
    throw new WorkflowLoadError(`the workflow arguments must be a JSON object such as {"${name}": ${fallback}}, got ${JSON.stringify(args)}`, 'D4_WORKFLOW_ARGS');
  }
  const value = (args as Record<string, unknown>)[name];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new WorkflowLoadError(
      `workflow argument '${name}' must be a whole number${min > Number.MIN_SAFE_INTEGER ? ` of at least ${min}` : ''}, got ${JSON.stringify(value)}`,
      'D4_WORKFLOW_ARGS',
    );
  }
  return value;
}
