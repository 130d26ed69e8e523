import { createRouter, type GenericPE, type PEEdge, type Router, type ValueOrigin } from '@d4/core';
import { portKey } from '@d4/core/internal';

/**
 * Where one edge's writes go: the one destination of a shared PE (any worker's copy takes
 * them), or one of a pinned PE's instances, chosen by the edge's grouping (exact: core's
 * `createRouter`, as on `simple`).
 */
export type WriteRoute<D> =
  | { readonly router: undefined; readonly dest: D; readonly origin: ValueOrigin }
  | { readonly router: Router; readonly dests: readonly D[]; readonly origin: ValueOrigin };

/** What a backend says of one edge's receiving end. */
export type EdgeDestination<D> = { readonly shared: D } | { readonly instances: readonly D[] };

/**
 * The routes of every write of PE `from` (instance `instance`), per output port: one per
 * edge leaving that port, so tee and split/merge graphs lose nothing.
 */
export function writeRoutes<D>(edges: readonly PEEdge[], from: GenericPE, instance: number, destination: (edge: PEEdge) => EdgeDestination<D>): Map<string, WriteRoute<D>[]> {
  const routes = new Map<string, WriteRoute<D>[]>();
  for (const edge of edges) {
    if (edge.from !== from) continue;
    const origin = { peId: from.id, port: edge.fromPort };
    const to = destination(edge);
    const route: WriteRoute<D> =
      'shared' in to
        ? { router: undefined, dest: to.shared, origin }
        : { router: createRouter(edge.to.inputs.get(edge.toPort)!.grouping, instance, to.instances.length, { peId: edge.to.id, port: edge.toPort }), dests: to.instances, origin };
    const list = routes.get(edge.fromPort) ?? [];
    list.push(route);
    routes.set(edge.fromPort, list);
  }
  return routes;
}

/**
 * Hands `value` to every destination its routes choose (all instances for an 'all'
 * grouping). `deliver` gets the value too, so that a writer makes it once, not per write.
 */
export function routeWrite<D>(routes: readonly WriteRoute<D>[], value: unknown, deliver: (dest: D, value: unknown, origin: ValueOrigin) => void): void {
  for (let r = 0; r < routes.length; r++) {
    const route = routes[r];
    if (route.router === undefined) deliver(route.dest, value, route.origin);
    else if (route.router.broadcast) for (const dest of route.dests) deliver(dest, value, route.origin);
    else deliver(route.dests[route.router.route(value)], value, route.origin);
  }
}

/** The connected output ports of `pe` (portKey form): its writes there leave its engine. */
export function connectedPorts(edges: readonly PEEdge[], pe: GenericPE): Set<string> {
  const out = new Set<string>();
  for (const e of edges) if (e.from === pe) out.add(portKey(pe.id, e.fromPort));
  return out;
}
