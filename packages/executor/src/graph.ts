import type { Future } from './future.js';

export interface DependencyGraphJSON {
  nodes: { id: number; label: string; state: string }[];
  /** `from` is the future given as an argument, `to` the task that took it. */
  edges: { from: number; to: number }[];
}

/** The tasks of an executor and the futures that fed them (pympipool's plot_dependency_graph, as data). */
export class DependencyGraph {
  #nodes = new Map<number, Future<unknown>>();
  #edges: { from: number; to: number }[] = [];

  add(future: Future<unknown>, dependencies: readonly Future<unknown>[]): void {
    this.#nodes.set(future.id, future);
    for (const dep of dependencies) {
      if (!this.#nodes.has(dep.id)) this.#nodes.set(dep.id, dep);
      this.#edges.push({ from: dep.id, to: future.id });
    }
  }

  toJSON(): DependencyGraphJSON {
    return {
      nodes: [...this.#nodes.values()].map((f) => ({ id: f.id, label: f.label, state: f.state })),
      edges: this.#edges.map((e) => ({ ...e })),
    };
  }

  toDot(): string {
    const lines = ['digraph executor {', '  rankdir=LR;', '  node [shape=box];'];
    for (const f of this.#nodes.values()) lines.push(`  t${f.id} [label=${JSON.stringify(`#${f.id} ${f.label}\n${f.state}`)}];`);
    for (const e of this.#edges) lines.push(`  t${e.from} -> t${e.to};`);
    lines.push('}');
    return lines.join('\n') + '\n';
  }
}
