/**
 * Seeded randomness for the example PEs. dispel4py's random PEs draw from Python's global
 * generator, so no two runs agree; here every random PE takes a seed, and the same seed
 * gives the same sequence on every platform and mapping.
 */

/** The seed a random workflow uses when its factory is given none. */
export const DEFAULT_SEED = 42;

/**
 * mulberry32: a 32-bit generator with a period of 2^32, small enough to read and fast
 * enough for a PE's inner loop. Returns numbers in [0, 1).
 */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The generator of one PE instance. Two PEs given the same seed, or five instances of one
 * PE, must not draw the same stream (two filters side by side would make the same
 * choices), so the PE id and the instance index are mixed into the seed. The id is the
 * same in every process that rebuilds the graph, so the stream is reproducible.
 */
export function instanceRandom(seed: number, peId: string, instance: number): () => number {
  let hash = 0x811c9dc5; // FNV-1a over the id
  for (let i = 0; i < peId.length; i++) hash = Math.imul(hash ^ peId.charCodeAt(i), 0x01000193);
  return mulberry32((seed ^ hash ^ Math.imul(instance + 1, 0x9e3779b9)) >>> 0);
}

/** One element of `items`, chosen with `random`. */
export function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)];
}
