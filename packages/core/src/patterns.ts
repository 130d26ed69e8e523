import { GenericPE, isThenable, type Grouping, type MaybePromise, type PEInputs, type PEOutputs } from './pe.js';

/**
 * One input ('input') to one output ('output'): `_process(data)` returns the value to
 * write, or undefined/null to write nothing (dispel4py's IterativePE).
 */
export abstract class IterativePE extends GenericPE {
  static readonly INPUT_NAME = 'input';
  static readonly OUTPUT_NAME = 'output';

  constructor(name?: string, options: { grouping?: Grouping } = {}) {
    super(name);
    this.addInput('input', options);
    this.addOutput('output');
  }

  abstract _process(data: any): MaybePromise<unknown>;

  process(inputs: PEInputs): MaybePromise<PEOutputs> {
    const result = this._process(inputs.input);
    if (isThenable(result)) return Promise.resolve(result).then(wrapOutput);
    return wrapOutput(result);
  }
}

function wrapOutput(value: unknown): PEOutputs {
  return value === undefined || value === null ? undefined : { output: value };
}

/**
 * A source: no inputs, output 'output'. `_process(inputs)` gets the raw input object the
 * input spec gives (e.g. `{input: 'file.txt'}`, or `{}` for a count) and returns a value.
 */
export abstract class ProducerPE extends GenericPE {
  constructor(name?: string) {
    super(name);
    this.addOutput('output');
  }

  abstract _process(inputs: PEInputs): MaybePromise<unknown>;

  process(inputs: PEInputs): MaybePromise<PEOutputs> {
    const result = this._process(inputs);
    if (isThenable(result)) return Promise.resolve(result).then(wrapOutput);
    return wrapOutput(result);
  }
}

/** A sink: input 'input', no outputs. `_process(data)` consumes one item. */
export abstract class ConsumerPE extends GenericPE {
  constructor(name?: string, options: { grouping?: Grouping } = {}) {
    super(name);
    this.addInput('input', options);
  }

  abstract _process(data: any): MaybePromise<void>;

  process(inputs: PEInputs): MaybePromise<PEOutputs> {
    const result = this._process(inputs.input);
    if (isThenable(result)) return Promise.resolve(result).then(() => undefined);
    return undefined;
  }
}

/** A function of one item and optional parameters: `fn(data, params)`. */
export type ItemFunction<P = any> = (data: any, params: P) => unknown;

/**
 * dispel4py's SimpleFunctionPE: an IterativePE around `fn(data, params)`. Its name is the
 * function's name, so chains built from named functions get readable ids.
 */
export class FunctionPE<P = Record<string, unknown>> extends IterativePE {
  readonly fn: ItemFunction<P>;
  readonly params: P;

  constructor(fn: ItemFunction<P>, params?: P, name?: string) {
    super(name ?? (fn.name || 'FunctionPE'));
    this.fn = fn;
    this.params = (params ?? {}) as P;
  }

  _process(data: unknown): unknown {
    return this.fn(data, this.params);
  }
}

/** A PE from a plain `process` function, for graphs written inline. */
export class ProcessFunctionPE extends GenericPE {
  private readonly impl: (this: GenericPE, inputs: PEInputs) => MaybePromise<PEOutputs>;

  constructor(
    spec: { name: string; inputs?: Array<string | { name: string; grouping?: Grouping }>; outputs?: string[]; stateful?: boolean },
    impl: (this: GenericPE, inputs: PEInputs) => MaybePromise<PEOutputs>,
  ) {
    super(spec.name);
    for (const input of spec.inputs ?? []) {
      if (typeof input === 'string') this.addInput(input);
      else this.addInput(input.name, { grouping: input.grouping });
    }
    for (const output of spec.outputs ?? []) this.addOutput(output);
    this.stateful = spec.stateful ?? false;
    this.impl = impl;
  }

  process(inputs: PEInputs): MaybePromise<PEOutputs> {
    return this.impl.call(this, inputs);
  }
}
