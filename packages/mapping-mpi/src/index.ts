import type { Mapping } from '@d4/core';
import { mpiMapping } from './mapping.js';

export { mpiMapping, mpiStatus } from './mapping.js';
export { launchCommand, splitArgs, type LaunchCommand, type LaunchSettings } from './launch/command.js';

/** The mappings this package provides, by name (core's loadMapping('mpi') finds them here). */
export const mappings: Record<string, Mapping> = { mpi: mpiMapping };
