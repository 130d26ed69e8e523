import type { Mapping } from '@d4/core';
import { multiMapping } from './multi.js';
import { dynMultiMapping, dynAutoMultiMapping } from './dynamic.js';

export { multiMapping, dynMultiMapping, dynAutoMultiMapping };
export { instancePlan, partitionPlan, type MultiPlan } from '@d4/runtime';

/** The mappings this package provides, by name (core's loadMapping('multi') finds them here). */
export const mappings: Record<string, Mapping> = {
  multi: multiMapping,
  dyn_multi: dynMultiMapping,
  dyn_auto_multi: dynAutoMultiMapping,
};
