import { readFileSync } from 'node:fs';
import { InputError, describeType } from './errors.js';
import type { WorkflowGraph } from './graph.js';
import type { GenericPE, PEInputs } from './pe.js';

/**
 * What the roots of a run are fed: `{peNameOrId: count | [inputs…]}`. A count calls the
 * PE that many times with `{}`; each list item is one call: a plain object is the call's
 * inputs as given (`{input: 'file.txt'}`), any other value goes to the PE's first input.
 */
export type InputSpec = Record<string, number | unknown[]>;

/** One root and what it is fed, resolved against a graph. */
export interface RootFeed {
  readonly peId: string;
  /** Number of calls with `{}`, when the spec gave a count (or nothing: 1). */
  readonly count?: number;
  /** The inputs of each call, when the spec gave a list. */
  readonly items?: PEInputs[];
}

/** The CLI's input options: `-i N`, `-d JSON`, `-f FILE`. */
export interface InputOptions {
  iterations?: number;
  data?: string;
  file?: string;
}

/**
 * dispel4py's create_inputs: `-f` and `-d` name the PEs they feed (by name or id), `-i N`
 * feeds every root that was not named, and a root that gets nothing runs once.
 */
export function inputSpecFromOptions(options: InputOptions): InputSpec {
  const spec: InputSpec = {};
  if (options.file !== undefined) {
    let text: string;
    try {
      text = readFileSync(options.file, 'utf8');
    } catch (error) {
      throw new InputError(`cannot read the input file given with -f: ${options.file} (${(error as NodeJS.ErrnoException).code ?? String(error)}); check the path`, 'D4_INPUT_FILE', { cause: error });
    }
    Object.assign(spec, parseSpecJSON(text, `the input file ${options.file} (-f)`));
  }
  if (options.data !== undefined) Object.assign(spec, parseSpecJSON(options.data, 'the -d option'));
  if (options.iterations !== undefined) {
    if (!Number.isInteger(options.iterations) || options.iterations < 0) {
      throw new InputError(`-i takes a whole number of iterations (0 or more), got ${options.iterations}`, 'D4_INPUT_ITERATIONS');
    }
    spec['*'] = options.iterations;
  }
  return spec;
}

function parseSpecJSON(text: string, where: string): InputSpec {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new InputError(`${where} is not valid JSON: ${(error as Error).message}; expected e.g. {"read": [{"input": "file.txt"}]} or {"producer": 10}`, 'D4_INPUT_JSON', { cause: error });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new InputError(`${where} must be a JSON object {peNameOrId: count | [inputs…]}, got ${Array.isArray(parsed) ? 'an array' : describeType(parsed)}`, 'D4_INPUT_JSON');
  }
  return parsed as InputSpec;
}

/**
 * Resolves a spec against the graph's roots. The key '*' (from `-i`) feeds every root the
 * spec does not name. Unknown names and non-root PEs are refused with the list of roots.
 */
export function resolveInputs(graph: WorkflowGraph, spec: InputSpec = {}): RootFeed[] {
  const pes = graph.pes();
  const roots = graph.roots();
  const named = new Map<GenericPE, number | unknown[]>();
  for (const [key, value] of Object.entries(spec)) {
    if (key === '*') continue;
    const byId = pes.find((pe) => pe.id === key);
    const matches = byId ? [byId] : pes.filter((pe) => pe.name === key);
    if (matches.length === 0) {
      throw new InputError(
        `the input names PE '${key}', which is not in the graph; the graph's PEs are: ${pes.map((pe) => pe.id).join(', ')} (roots: ${roots.map((pe) => pe.id).join(', ')})`,
        'D4_INPUT_UNKNOWN_PE',
      );
    }
    for (const pe of matches) {
      if (!roots.includes(pe)) {
        throw new InputError(`the input feeds PE ${pe.id}, which is not a root (it receives data from other PEs); feed one of the roots: ${roots.map((r) => r.id).join(', ')}`, 'D4_INPUT_NOT_ROOT');
      }
      named.set(pe, checkFeedValue(value, pe));
    }
  }
  const everyRoot = spec['*'];
  return roots.map((pe): RootFeed => {
    const value = named.get(pe) ?? (everyRoot !== undefined ? checkFeedValue(everyRoot, pe) : 1);
    if (typeof value === 'number') return { peId: pe.id, count: value };
    return { peId: pe.id, items: value.map((item) => callInputs(pe, item)) };
  });
}

function checkFeedValue(value: unknown, pe: GenericPE): number | unknown[] {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return value;
  if (Array.isArray(value)) return value;
  throw new InputError(`the input for PE ${pe.id} must be a whole number of iterations or a list of inputs, got ${describeType(value)} ${JSON.stringify(value)}`, 'D4_INPUT_VALUE');
}

/** The `{port: value}` of one call for a list item. */
export function callInputs(pe: GenericPE, item: unknown): PEInputs {
  if (item !== null && typeof item === 'object' && !Array.isArray(item) && Object.getPrototypeOf(item) === Object.prototype) {
    return item as PEInputs;
  }
  const first = pe.inputs.keys().next();
  return { [first.done ? 'input' : first.value]: item };
}

/** Total number of root calls a feed makes. */
export function feedSize(feed: RootFeed): number {
  return feed.items ? feed.items.length : feed.count ?? 0;
}

/** The inputs of root call `k` of a feed: the list's item, or a fresh `{}` for a count. */
export function feedCall(feed: RootFeed, k: number): PEInputs {
  return feed.items ? feed.items[k] : {};
}
