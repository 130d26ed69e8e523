import type { DDict, DDictHandle } from './ddict.js';

/**
 * An `init` for @d4/executor that attaches each worker to dictionaries once (Dragon's Pool
 * `initializer`): `new Executor({ blockAllocation: true, init: ddictInit({ ddict: dd }) })`,
 * then a task reads `{ ddict }` from its last parameter.
 *
 * The executor ships an init function by its source, which cannot close over variables, so
 * the handles are written into the source as literals and the module is imported by its
 * absolute URL (this package's built file, wherever the worker runs). The URL in a handle
 * may hold the Redis password: it travels to the workers as the executor's own messages do.
 */
export function ddictInit(dicts: Record<string, DDict | DDictHandle>): () => Promise<Record<string, DDict>> {
  const handles = Object.fromEntries(Object.entries(dicts).map(([key, dict]) => [key, 'handle' in dict ? dict.handle : dict]));
  const module = new URL('./ddict.js', import.meta.url).href;
  const source = `async () => {
  const { DDict } = await import(${JSON.stringify(module)});
  const handles = ${JSON.stringify(handles)};
  const attached = {};
  for (const [key, handle] of Object.entries(handles)) attached[key] = await DDict.attach(handle);
  return attached;
}`;
  return new Function(`return ${source}`)() as () => Promise<Record<string, DDict>>;
}
