import { GraphError } from './errors.js';
import { GenericPE } from './pe.js';
import { FunctionPE, type ItemFunction } from './patterns.js';

/** A node of a graph: a PE, or a composite that stands for a sub-graph. */
export type GraphNode = GenericPE | CompositePE;

export interface Edge {
  readonly from: GraphNode;
  readonly fromPort: string;
  readonly to: GraphNode;
  readonly toPort: string;
}

/** An edge between two PEs, after composites are resolved. */
export interface PEEdge {
  readonly from: GenericPE;
  readonly fromPort: string;
  readonly to: GenericPE;
  readonly toPort: string;
}

export interface GraphJSON {
  pes: Array<{ id: string; name: string; inputs: Array<{ name: string; grouping: unknown }>; outputs: string[]; numprocesses: number; stateful: boolean; /** The ids of the composites that hold the PE, outermost first. */ composite?: string[] }>;
  edges: Array<{ from: string; fromPort: string; to: string; toPort: string }>;
  roots: string[];
  sinks: string[];
  partitions?: string[][];
}

/**
 * A workflow: PEs and composites joined by named ports. PE ids are the PE's name plus
 * its position in the order PEs join the (outermost) graph, so a worker that imports the
 * same module rebuilds the same ids.
 */
export class WorkflowGraph {
  readonly nodes: GraphNode[] = [];
  readonly edges: Edge[] = [];
  /** dispel4py's partitions for partitioned (`-s`) runs; a list of PE groups. */
  partitions?: GenericPE[][];
  /** @internal the graph this one is nested in (for composites) */
  owner?: WorkflowGraph;

  add(node: GraphNode): GraphNode {
    if (this.nodes.includes(node)) return node;
    if (node instanceof CompositePE) {
      if (node === (this as WorkflowGraph)) throw new GraphError('a composite cannot contain itself');
      node.owner = this;
    }
    this.nodes.push(node);
    this.outermost().renumber();
    return node;
  }

  /**
   * Connects `fromPort` of `from` to `toPort` of `to`. Connecting the same pair twice
   * carries each item twice, as in dispel4py.
   */
  connect(from: GraphNode, fromPort: string, to: GraphNode, toPort: string): this {
    checkPort(from, fromPort, 'output');
    checkPort(to, toPort, 'input');
    this.add(from);
    this.add(to);
    this.edges.push({ from, fromPort, to, toPort });
    return this;
  }

  /** Every PE, composites expanded, in join order. */
  pes(): GenericPE[] {
    const out: GenericPE[] = [];
    const visit = (graph: WorkflowGraph) => {
      for (const node of graph.nodes) {
        if (node instanceof CompositePE) visit(node);
        else if (!out.includes(node)) out.push(node);
      }
    };
    visit(this);
    return out;
  }

  /** Every composite, nested ones too, in the order they join (each before what it holds). */
  composites(): CompositePE[] {
    const out: CompositePE[] = [];
    const visit = (graph: WorkflowGraph) => {
      for (const node of graph.nodes) {
        if (node instanceof CompositePE && !out.includes(node)) {
          out.push(node);
          visit(node);
        }
      }
    };
    visit(this);
    return out;
  }

  /** Every edge between PEs, with composite ports resolved to the PEs behind them. */
  peEdges(): PEEdge[] {
    const out: PEEdge[] = [];
    const visit = (graph: WorkflowGraph) => {
      for (const node of graph.nodes) if (node instanceof CompositePE) visit(node);
      for (const edge of graph.edges) {
        const [from, fromPort] = resolveOutput(edge.from, edge.fromPort);
        const [to, toPort] = resolveInput(edge.to, edge.toPort);
        out.push({ from, fromPort, to, toPort });
      }
    };
    visit(this);
    return out;
  }

  /** A new graph of the same PE objects with composites expanded (dispel4py's flatten). */
  flatten(): WorkflowGraph {
    const flat = new WorkflowGraph();
    for (const pe of this.pes()) flat.nodes.push(pe);
    for (const edge of this.peEdges()) flat.edges.push(edge);
    flat.partitions = this.partitions;
    return flat;
  }

  /** PEs with no connected input: they are fed by the input spec. */
  roots(): GenericPE[] {
    const fed = new Set(this.peEdges().map((e) => e.to));
    return this.pes().filter((pe) => !fed.has(pe));
  }

  /** PEs with no connected output. */
  sinks(): GenericPE[] {
    const feeding = new Set(this.peEdges().map((e) => e.from));
    return this.pes().filter((pe) => !feeding.has(pe));
  }

  peById(id: string): GenericPE | undefined {
    return this.pes().find((pe) => pe.id === id);
  }

  /**
   * Refuses graphs no mapping can run: no PEs, unknown ports, duplicate ids, cycles, or
   * partitions that name PEs outside the graph.
   */
  validate(): this {
    const pes = this.pes();
    if (pes.length === 0) throw new GraphError('the workflow graph has no PEs: add PEs with graph.add() or graph.connect()', 'D4_GRAPH_EMPTY');
    const ids = new Map<string, GenericPE>();
    for (const pe of pes) {
      const other = ids.get(pe.id);
      if (other && other !== pe) throw new GraphError(`two PEs share the id ${pe.id}`, 'D4_GRAPH_DUPLICATE_ID');
      ids.set(pe.id, pe);
    }
    const edges = this.peEdges();
    for (const e of edges) {
      checkPort(e.from, e.fromPort, 'output');
      checkPort(e.to, e.toPort, 'input');
    }
    const cycle = findCycle(pes, edges);
    if (cycle) throw new GraphError(`the graph has a cycle: ${cycle.map((pe) => pe.id).join(' -> ')}; d4 runs directed acyclic graphs only`, 'D4_GRAPH_CYCLE');
    if (this.partitions) {
      for (const part of this.partitions) {
        for (const pe of part) {
          if (!pes.includes(pe)) throw new GraphError(`partition member ${pe.id || pe.name} is not a PE of this graph`, 'D4_GRAPH_PARTITION');
        }
      }
    }
    return this;
  }

  /** A Graphviz drawing; composites are drawn as clusters. */
  toDot(): string {
    const lines = ['digraph workflow {', '  rankdir=LR;', '  node [shape=box, style=rounded];'];
    let cluster = 0;
    const drawNodes = (graph: WorkflowGraph, indent: string) => {
      for (const node of graph.nodes) {
        if (node instanceof CompositePE) {
          lines.push(`${indent}subgraph cluster_${cluster++} {`, `${indent}  label=${dotString(node.id || node.name)};`, `${indent}  style=dashed;`);
          drawNodes(node, indent + '  ');
          lines.push(`${indent}}`);
        } else {
          const groupings = [...node.inputs.values()].filter((p) => p.grouping !== 'shuffle').map((p) => `${p.name}: ${groupingLabel(p.grouping)}`);
          const label = groupings.length ? `${node.id}\\n${groupings.join('\\n')}` : node.id;
          lines.push(`${indent}${dotString(node.id)} [label=${dotString(label).replace(/\\\\n/g, '\\n')}];`);
        }
      }
    };
    drawNodes(this, '  ');
    for (const e of this.peEdges()) {
      lines.push(`  ${dotString(e.from.id)} -> ${dotString(e.to.id)} [label=${dotString(`${e.fromPort} → ${e.toPort}`)}];`);
    }
    lines.push('}');
    return lines.join('\n') + '\n';
  }

  toJSON(): GraphJSON {
    const composites = new Map<GenericPE, string[]>();
    const visit = (graph: WorkflowGraph, path: string[]) => {
      for (const node of graph.nodes) {
        if (node instanceof CompositePE) visit(node, [...path, node.id || node.name]);
        else if (path.length) composites.set(node, path);
      }
    };
    visit(this, []);
    return {
      pes: this.pes().map((pe) => ({
        id: pe.id,
        name: pe.name,
        inputs: [...pe.inputs.values()].map((p) => ({ name: p.name, grouping: p.grouping })),
        outputs: [...pe.outputs.keys()],
        numprocesses: pe.numprocesses,
        stateful: pe.stateful,
        ...(composites.has(pe) ? { composite: composites.get(pe) } : {}),
      })),
      edges: this.peEdges().map((e) => ({ from: e.from.id, fromPort: e.fromPort, to: e.to.id, toPort: e.toPort })),
      roots: this.roots().map((pe) => pe.id),
      sinks: this.sinks().map((pe) => pe.id),
      ...(this.partitions ? { partitions: this.partitions.map((p) => p.map((pe) => pe.id)) } : {}),
    };
  }

  /** @internal */
  outermost(): WorkflowGraph {
    let graph: WorkflowGraph = this;
    while (graph.owner) graph = graph.owner;
    return graph;
  }

  private renumber(): void {
    this.pes().forEach((pe, index) => {
      pe.id = `${pe.name}${index}`;
    });
    // Composites count on their own, so that PE ids stay what dispel4py gives them; two
    // instances of one composite class are then told apart in drawings and listings.
    this.composites().forEach((composite, index) => {
      composite.id = `${composite.name}${index}`;
    });
  }
}

// Lets isWorkflowGraph() recognise graphs made by another copy of @d4/core.
Object.defineProperty(WorkflowGraph.prototype, Symbol.for('d4.WorkflowGraph'), { value: true });

/**
 * A sub-graph that behaves as one node: its input and output names map to ports of PEs
 * (or of nested composites) inside it.
 */
export class CompositePE extends WorkflowGraph {
  name: string;
  /** Its name plus its position among the composites of the outermost graph ('' until it joins one). */
  id = '';
  readonly inputMappings = new Map<string, [GraphNode, string]>();
  readonly outputMappings = new Map<string, [GraphNode, string]>();

  constructor(name?: string) {
    super();
    this.name = name ?? new.target.name;
  }

  mapInput(name: string, node: GraphNode, port: string): this {
    checkPort(node, port, 'input');
    this.add(node);
    this.inputMappings.set(name, [node, port]);
    return this;
  }

  mapOutput(name: string, node: GraphNode, port: string): this {
    checkPort(node, port, 'output');
    this.add(node);
    this.outputMappings.set(name, [node, port]);
    return this;
  }
}

function resolveInput(node: GraphNode, port: string): [GenericPE, string] {
  let current: GraphNode = node;
  let name = port;
  while (current instanceof CompositePE) {
    const target = current.inputMappings.get(name);
    if (!target) throw unknownPort(current, name, 'input');
    [current, name] = target;
  }
  return [current, name];
}

function resolveOutput(node: GraphNode, port: string): [GenericPE, string] {
  let current: GraphNode = node;
  let name = port;
  while (current instanceof CompositePE) {
    const target = current.outputMappings.get(name);
    if (!target) throw unknownPort(current, name, 'output');
    [current, name] = target;
  }
  return [current, name];
}

function checkPort(node: GraphNode, port: string, kind: 'input' | 'output'): void {
  if (node instanceof CompositePE) {
    const mappings = kind === 'input' ? node.inputMappings : node.outputMappings;
    if (!mappings.has(port)) throw unknownPort(node, port, kind);
    return;
  }
  if (!(node instanceof GenericPE)) {
    throw new GraphError(`connect() takes PEs or composites, got ${node === null ? 'null' : typeof node}`, 'D4_GRAPH_NODE');
  }
  const ports = kind === 'input' ? node.inputs : node.outputs;
  if (!ports.has(port)) throw unknownPort(node, port, kind);
}

function unknownPort(node: GraphNode, port: string, kind: 'input' | 'output'): GraphError {
  const names =
    node instanceof CompositePE
      ? [...(kind === 'input' ? node.inputMappings : node.outputMappings).keys()]
      : [...(kind === 'input' ? node.inputs : node.outputs).keys()];
  const label = node instanceof CompositePE ? `composite ${node.name}` : `PE ${node.id || node.name}`;
  return new GraphError(
    `${label} has no ${kind} port '${port}'; its ${kind}s are: ${names.join(', ') || '(none)'}`,
    'D4_GRAPH_UNKNOWN_PORT',
  );
}

function findCycle(pes: GenericPE[], edges: PEEdge[]): GenericPE[] | undefined {
  const next = new Map<GenericPE, GenericPE[]>();
  for (const e of edges) {
    const list = next.get(e.from) ?? [];
    list.push(e.to);
    next.set(e.from, list);
  }
  const state = new Map<GenericPE, 1 | 2>();
  const stack: GenericPE[] = [];
  const visit = (pe: GenericPE): GenericPE[] | undefined => {
    state.set(pe, 1);
    stack.push(pe);
    for (const to of next.get(pe) ?? []) {
      const s = state.get(to);
      if (s === 1) return [...stack.slice(stack.indexOf(to)), to];
      if (s === undefined) {
        const found = visit(to);
        if (found) return found;
      }
    }
    stack.pop();
    state.set(pe, 2);
    return undefined;
  };
  for (const pe of pes) {
    if (!state.has(pe)) {
      const found = visit(pe);
      if (found) return found;
    }
  }
  return undefined;
}

function dotString(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function groupingLabel(grouping: unknown): string {
  return Array.isArray(grouping) ? `group-by ${JSON.stringify(grouping)}` : String(grouping);
}

/** An element of an iterative chain: a function, or a function with its parameters. */
export type ChainElement = ItemFunction | [ItemFunction, Record<string, unknown>];

/**
 * dispel4py's create_iterative_chain: a composite of FunctionPEs in sequence, with input
 * 'input' on the first and output 'output' on the last.
 */
export function createIterativeChain(
  functions: ChainElement[],
  options: { name?: string; namePrefix?: string; nameSuffix?: string } = {},
): CompositePE {
  if (functions.length === 0) throw new GraphError('createIterativeChain needs at least one function', 'D4_GRAPH_EMPTY');
  const composite = new CompositePE(options.name ?? 'IterativeChain');
  let first: FunctionPE | undefined;
  let previous: FunctionPE | undefined;
  for (const element of functions) {
    const [fn, params] = Array.isArray(element) ? element : [element, {}];
    if (typeof fn !== 'function') throw new GraphError(`createIterativeChain: every element must be a function or [function, params], got ${typeof fn}`, 'D4_GRAPH_NODE');
    const pe = new FunctionPE(fn, params, `${options.namePrefix ?? ''}${fn.name || 'fn'}${options.nameSuffix ?? ''}`);
    if (previous) composite.connect(previous, 'output', pe, 'input');
    else composite.add(pe);
    first ??= pe;
    previous = pe;
  }
  composite.mapInput('input', first!, 'input');
  composite.mapOutput('output', previous!, 'output');
  return composite;
}
