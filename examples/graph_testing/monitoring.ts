/**
 * dispel4py's ProcessTimingPE: wraps a PE, times each of its process() calls and logs the
 * average when the instance ends. The wrapper takes the wrapped PE's name, ports and
 * settings, so it stands in the graph exactly where the wrapped PE would.
 */
import { GenericPE, isThenable, type MaybePromise, type PEInputs, type PEOutputs } from '@d4/core';

export class ProcessTimingPE extends GenericPE {
  private totalMs = 0;
  private calls = 0;

  constructor(readonly inner: GenericPE) {
    super(inner.name);
    for (const port of inner.inputs.values()) this.addInput(port.name, { grouping: port.grouping });
    for (const port of inner.outputs.keys()) this.addOutput(port);
    this.numprocesses = inner.numprocesses;
    this.stateful = inner.stateful;
  }

  /** Average duration of one process() call so far, in milliseconds (0 before any call). */
  get averageMs(): number {
    return this.calls === 0 ? 0 : this.totalMs / this.calls;
  }

  override preprocess(): MaybePromise<void> {
    this.totalMs = 0;
    this.calls = 0;
    // The wrapped PE writes and logs through this one, as this instance.
    const inner = this.inner;
    inner.id = this.id;
    inner.instance = this.instance;
    inner.numInstances = this.numInstances;
    inner._write = (port, value) => this.write(port, value);
    inner._log = this._log;
    return inner.preprocess();
  }

  process(inputs: PEInputs): MaybePromise<PEOutputs> {
    const start = performance.now();
    const result = this.inner.process(inputs);
    if (isThenable(result)) {
      return Promise.resolve(result).then((value) => {
        this.record(start);
        return value;
      });
    }
    this.record(start);
    return result;
  }

  override async postprocess(): Promise<void> {
    await this.inner.postprocess();
    this.log(`Average processing time: ${this.averageMs.toFixed(3)} ms over ${this.calls} call(s)`);
  }

  private record(start: number): void {
    this.totalMs += performance.now() - start;
    this.calls += 1;
  }
}
