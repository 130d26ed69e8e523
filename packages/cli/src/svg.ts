import { D4Error } from '@d4/core';

/**
 * Draws a Graphviz (DOT) text as SVG without a system Graphviz: @viz-js/viz is Graphviz
 * compiled to WebAssembly, shipped inside the npm package (nothing is downloaded when it
 * runs). Imported here only, when `d4 graph --svg` asks: the 1.2 MB module costs the
 * other commands nothing.
 */
export async function dotToSvg(dot: string): Promise<string> {
  const { instance } = await import('@viz-js/viz');
  const viz = await instance();
  const result = viz.render(dot, { format: 'svg', engine: 'dot' });
  if (result.status !== 'success') {
    // toDot() writes what Graphviz reads: a failure here is d4's bug.
    throw new D4Error('D4_INTERNAL', `Graphviz could not draw the graph: ${result.errors.map((e) => e.message).join('; ')}`);
  }
  return result.output;
}
