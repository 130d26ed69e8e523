import { fileURLToPath } from 'node:url';
import { loadWorkflow, type LoadedWorkflow } from '@d4/core';

export const fixtures = fileURLToPath(new URL('./fixtures/workflows.ts', import.meta.url));

export function workflow(exportName: string, args?: unknown): Promise<LoadedWorkflow> {
  return loadWorkflow(fixtures, { exportName, args });
}

/** Values of one unconnected port, or [] when it got none. */
export function valuesOf(outputs: Record<string, Record<string, unknown[]>>, peId: string, port = 'output'): unknown[] {
  return outputs[peId]?.[port] ?? [];
}
