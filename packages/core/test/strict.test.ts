import { describe, expect, it } from '@jest/globals';
import { CodecError, IterativePE, WorkflowGraph, asCarried, simpleMapping } from '../src/index.js';
import { CountingProducer, Identity } from '../src/conformance/graphs.js';

/** A value with a class and a method, as a user's PE might write. */
class Point {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
  norm(): number {
    return Math.hypot(this.x, this.y);
  }
}

class MakesPoint extends IterativePE {
  constructor() {
    super('MakesPoint');
  }
  _process(n: number): unknown {
    return { at: new Point(n, 0), n };
  }
}

/** What a receiver sees of a point: its class and whether its method survived. */
class Describes extends IterativePE {
  constructor() {
    super('Describes');
  }
  _process(value: { at: Point }): unknown {
    return { plain: Object.getPrototypeOf(value.at) === Object.prototype, method: typeof value.at.norm };
  }
}

class WritesCallback extends IterativePE {
  constructor() {
    super('WritesCallback');
  }
  _process(n: number): unknown {
    return { n, callback: function later() {} };
  }
}

function chain(...pes: IterativePE[]): WorkflowGraph {
  const graph = new WorkflowGraph();
  graph.connect(new CountingProducer(), 'output', pes[0], 'input');
  for (let i = 1; i < pes.length; i++) graph.connect(pes[i - 1], 'output', pes[i], 'input');
  return graph;
}

describe("simple's strict mode (default): values are what they would be after crossing a boundary", () => {
  it('refuses a function with D4_CODEC naming the PE, the port and the type, as the other mappings do', async () => {
    const error = await simpleMapping.run(chain(new WritesCallback(), new Identity()), { '*': 3 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CodecError);
    expect(error).toMatchObject({ code: 'D4_CODEC' });
    expect((error as Error).message).toBe(
      "PE WritesCallback1 wrote to port 'output' a value that cannot cross a process boundary: it holds a function later; send plain data (numbers, strings, arrays, objects, Map, Set, Date, typed arrays) instead",
    );
  });

  it('delivers class instances as plain objects, to the next PE and in the outputs', async () => {
    const described = await simpleMapping.run(chain(new MakesPoint(), new Describes()), { '*': 2 });
    expect(described.outputs).toEqual({ Describes2: { output: [{ plain: true, method: 'undefined' }, { plain: true, method: 'undefined' }] } });
    const outputs = (await simpleMapping.run(chain(new MakesPoint()), { '*': 2 })).outputs.MakesPoint1.output as Array<{ at: unknown }>;
    expect(outputs).toStrictEqual([{ at: { x: 1, y: 0 }, n: 1 }, { at: { x: 2, y: 0 }, n: 2 }]);
    expect(Object.getPrototypeOf(outputs[0].at)).toBe(Object.prototype);
  });

  it('strict: false passes values by reference (functions and classes kept)', async () => {
    const described = await simpleMapping.run(chain(new MakesPoint(), new Describes()), { '*': 1 }, { strict: false });
    expect(described.outputs).toEqual({ Describes2: { output: [{ plain: false, method: 'function' }] } });
    const result = await simpleMapping.run(chain(new WritesCallback()), { '*': 1 }, { strict: false });
    expect(typeof (result.outputs.WritesCallback1.output[0] as { callback: unknown }).callback).toBe('function');
  });

  it('refuses a strict option that is not a flag', async () => {
    await expect(simpleMapping.run(chain(new Identity()), { '*': 1 }, { strict: 'sometimes' as unknown as boolean })).rejects.toMatchObject({ code: 'D4_OPTION' });
  });
});

describe('asCarried', () => {
  it('returns plain data itself, without copying', () => {
    for (const value of [1, 'a', true, undefined, null, 5n, [1, [2, { a: 'b' }]], { a: [1, 2], b: { c: null } }, new Float64Array(4), Buffer.from('x'), new Date(0), new Map([[1, { a: 2 }]]), new Set(['a'])]) {
      expect(asCarried(value, 'P', 'output')).toBe(value);
    }
  });

  it('converts what the codec changes: class instances nested anywhere, subclasses of built-ins', () => {
    const inMap = asCarried(new Map([['p', new Point(3, 4)]]), 'P', 'output') as Map<string, unknown>;
    expect(Object.getPrototypeOf(inMap.get('p'))).toBe(Object.prototype);
    const inArray = asCarried([[new Point(1, 2)]], 'P', 'output') as unknown[][];
    expect(inArray).toStrictEqual([[{ x: 1, y: 2 }]]);
    class Stamp extends Date {}
    expect(Object.getPrototypeOf(asCarried(new Stamp(0), 'P', 'output'))).toBe(Date.prototype);
  });

  it('refuses functions and symbols nested anywhere, naming PE, port and type', () => {
    expect(() => asCarried({ deep: [new Set([Symbol('s')])] }, 'P3', 'odd')).toThrow("PE P3 wrote to port 'odd' a value that cannot cross a process boundary: it holds a symbol");
    expect(() => asCarried([() => 1], 'P3', 'odd')).toThrow(CodecError);
  });
});
