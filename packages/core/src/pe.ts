import { D4Error, GraphError } from './errors.js';

/**
 * How items on one input are spread over the instances of the receiving PE.
 * - 'shuffle' (default): round-robin, per source instance.
 * - 'global': every item to instance 0.
 * - 'all': one copy to every instance.
 * - a list of keys or indices: group-by, with a stable hash of those fields.
 */
export type Grouping = 'shuffle' | 'global' | 'all' | ReadonlyArray<string | number>;

export interface InputPort {
  readonly name: string;
  readonly grouping: Grouping;
}

export interface OutputPort {
  readonly name: string;
}

/** One call's inputs: `{port: value}`. Root PEs get what the input spec gives them. */
export type PEInputs = Record<string, any>;

/** What `process` may return: each entry is one write to that port. */
export type PEOutputs = Record<string, unknown> | void | undefined | null;

export type MaybePromise<T> = T | Promise<T>;

export type WriteFn = (port: string, value: unknown) => void;
export type LogFn = (peId: string, instance: number, message: string) => void;

/** Where `log()` goes when no mapping set a logger: stderr, so stdout stays the results. */
export const defaultLog: LogFn = (peId, instance, message) => {
  process.stderr.write(`${peId} (rank ${instance}): ${message}\n`);
};

function notRunning(this: GenericPE): never {
  throw new D4Error(
    'D4_NOT_RUNNING',
    `PE ${this.id || this.name} wrote output outside a run; write() works only while a mapping runs the PE`,
  );
}

/**
 * The base of every processing element. Subclasses declare ports in their constructor
 * (`addInput`, `addOutput`) and implement `process`. A mapping sets the instance index,
 * the writer and the logger before `preprocess`.
 */
export abstract class GenericPE {
  /** The PE's name; its id in a graph is this name plus a counter. */
  name: string;
  /** Assigned when the PE joins a graph: name + position in join order. */
  id = '';
  readonly inputs = new Map<string, InputPort>();
  readonly outputs = new Map<string, OutputPort>();
  /** Instances wanted by fixed mappings; values above 1 are kept as given (dispel4py). */
  numprocesses = 1;
  /** Marks a PE as keeping state across items even without a grouping. */
  stateful = false;
  /** The instance index of this copy (dispel4py's rank within the PE). */
  instance = 0;
  /** How many instances of this PE the mapping runs. */
  numInstances = 1;

  /** @internal set by the mapping that runs this instance */
  _write: WriteFn = notRunning;
  /** @internal */
  _log: LogFn = defaultLog;

  constructor(name?: string) {
    this.name = name ?? new.target.name;
  }

  /** dispel4py's name for the instance index. */
  get rank(): number {
    return this.instance;
  }

  addInput(name: string, options: { grouping?: Grouping } = {}): this {
    if (this.inputs.has(name)) throw new GraphError(`PE ${this.name} declares input '${name}' twice`);
    const grouping = options.grouping ?? 'shuffle';
    validateGrouping(this.name, name, grouping);
    this.inputs.set(name, { name, grouping });
    return this;
  }

  addOutput(name: string): this {
    if (this.outputs.has(name)) throw new GraphError(`PE ${this.name} declares output '${name}' twice`);
    this.outputs.set(name, { name });
    return this;
  }

  /** Changes the grouping of a declared input (for PEs built from library classes). */
  setGrouping(input: string, grouping: Grouping): this {
    const port = this.inputs.get(input);
    if (!port) throw new GraphError(`PE ${this.name} has no input '${input}'; its inputs are: ${[...this.inputs.keys()].join(', ') || '(none)'}`);
    validateGrouping(this.name, input, grouping);
    this.inputs.set(input, { name: input, grouping });
    return this;
  }

  preprocess(): MaybePromise<void> {}

  /** Called once per call with one `{port: value}`; may return `{port: value}` writes. */
  abstract process(inputs: PEInputs): MaybePromise<PEOutputs>;

  postprocess(): MaybePromise<void> {}

  write(port: string, value: unknown): void {
    this._write(port, value);
  }

  log(message: unknown): void {
    this._log(this.id || this.name, this.instance, typeof message === 'string' ? message : String(message));
  }
}

function validateGrouping(pe: string, port: string, grouping: Grouping): void {
  if (grouping === 'shuffle' || grouping === 'global' || grouping === 'all') return;
  if (Array.isArray(grouping) && grouping.length > 0 && grouping.every((k) => typeof k === 'string' || (typeof k === 'number' && Number.isInteger(k) && k >= 0))) return;
  throw new GraphError(
    `PE ${pe} input '${port}': grouping ${JSON.stringify(grouping)} is not valid; use 'shuffle', 'global', 'all' or a non-empty list of keys/indices such as [0] or ['word']`,
  );
}

/** True when a PE keeps state that ties items to instances (a grouping or the flag). */
export function statefulReason(pe: GenericPE): string | undefined {
  if (pe.stateful) return 'its stateful flag is set';
  for (const port of pe.inputs.values()) {
    if (port.grouping !== 'shuffle') return `input '${port.name}' has grouping ${JSON.stringify(port.grouping)}`;
  }
  return undefined;
}

export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && typeof value === 'object' && typeof (value as { then?: unknown }).then === 'function';
}
