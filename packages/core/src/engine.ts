import { PEError, D4Error } from './errors.js';
import type { PEEdge } from './graph.js';
import { defaultLog, isThenable, type GenericPE, type LogFn, type PEInputs, type PEOutputs } from './pe.js';
import type { OutputCollector } from './collector.js';
import type { PEStats, RunProgress } from './mapping.js';
import { CURRENT, exitIfAsked } from './pe-calls.js';

/**
 * Runs PE instances in one thread, depth-first: each value a PE writes is processed by
 * every local receiver before the next value is taken, so memory stays bounded however
 * many items a source makes. Synchronous PEs run without a single await; an async PE
 * switches only the rest of that delivery to promises.
 *
 * The `simple` mapping runs the whole graph in one engine; parallel mappings run one
 * engine per instance (or per partition) and pass writes on external ports to `external`.
 */
export interface EngineConfig {
  /** The instances this engine runs (one object per instance). */
  pes: readonly GenericPE[];
  /** Edges delivered locally, depth-first. Both ends must be in `pes`. */
  localEdges: readonly PEEdge[];
  /** Ports whose writes leave this engine: `${peId}\u0000${port}`. */
  externalPorts?: ReadonlySet<string>;
  /** Receives writes on external ports. */
  external?: (pe: GenericPE, port: string, value: unknown) => void;
  /** Ports connected nowhere in the whole graph: their writes are results. */
  unconnectedPorts: ReadonlySet<string>;
  collector: OutputCollector;
  /**
   * Applied to every value a PE writes before anything receives it (`simple`'s strict mode:
   * codec.ts asCarried). Absent: values pass by reference, as between PEs of one thread.
   */
  carry?: (value: unknown, peId: string, port: string) => unknown;
  log?: LogFn;
  progress?: RunProgress;
  /**
   * Where each instance's process() call count is published as it goes: `array[slots[pe.id]]`,
   * a view on a SharedArrayBuffer the driver of a threaded mapping reads for its progress
   * display. A store per call: unlike messages, it needs no turn of this thread's event
   * loop, which a PE busy in a long synchronous stretch never gives.
   */
  callCounters?: { array: Float64Array; slots: Readonly<Record<string, number>> };
}


type Deliver = (value: unknown) => void | Promise<void>;

/** What wrote the values being delivered: a process() call (its inputs) or a lifecycle method. */
type During = PEInputs | 'preprocess' | 'postprocess';

interface PortRoute {
  readonly port: string;
  readonly targets: Deliver[];
  readonly external: boolean;
  readonly result: boolean;
}

interface Runtime {
  readonly pe: GenericPE;
  readonly routes: Map<string, PortRoute>;
  /** Writes of the call in progress, delivered after it returns. The arrays are reused
   * and `outCount` says how many entries are live: truncating an array on every call
   * costs more than the rest of a pass-through PE. */
  readonly outPorts: string[];
  readonly outValues: unknown[];
  outCount: number;
  /** The route of the port written last, which is almost always the next one too. */
  lastRoute: PortRoute | undefined;
  calls: number;
  writes: number;
  /** The timed calls' process() time, their count, and the number of the next call to time. */
  timedMs: number;
  timedCalls: number;
  nextTimed: number;
  /** Where call counts are published (callCounters), if anywhere. */
  readonly counters: Float64Array | undefined;
  readonly counterSlot: number;
}

export const portKey = (peId: string, port: string): string => `${peId}\u0000${port}`;

/**
 * process() time is sampled: every one of an instance's first TIMED_FIRST calls, then about
 * one in TIMING_STRIDE, scaled by calls / timed calls. Two performance.now() calls cost more
 * than a pass-through PE: at one call in 16 (before session 10) they were ~8 % of
 * pipeline_test on simple; a fixed 1 in 16 also scaled a PE of 3 calls by 16. The gap to the
 * next timed call is random (TIMING_STRIDE / 2 to 3 / 2 TIMING_STRIDE): a fixed one timed the
 * same call of every batch, and where that call pays for sending the batch (its write fills
 * it), zmq_multi's stats showed a pass-through PE with more process() time than the run.
 */
const TIMED_FIRST = 16;
const TIMING_STRIDE = 256;

export class LocalEngine {
  private readonly runtimes = new Map<GenericPE, Runtime>();
  /** The runtime fed last (feed()), which is almost always the next one too. */
  private lastFed: Runtime | undefined;
  private readonly order: Runtime[];
  private readonly config: EngineConfig;

  constructor(config: EngineConfig) {
    this.config = config;
    for (const pe of config.pes) {
      const slot = config.callCounters?.slots[pe.id];
      const counters = slot === undefined ? undefined : config.callCounters!.array;
      const rt: Runtime = { pe, routes: new Map(), outPorts: [], outValues: [], outCount: 0, lastRoute: undefined, calls: 0, writes: 0, timedMs: 0, timedCalls: 0, nextTimed: 1, counters, counterSlot: slot ?? 0 };
      this.runtimes.set(pe, rt);
      pe._write = (port, value) => {
        const n = rt.outCount++;
        rt.outPorts[n] = port;
        rt.outValues[n] = value;
      };
      pe._log = config.log ?? defaultLog;
    }
    for (const pe of config.pes) {
      const rt = this.runtimes.get(pe)!;
      for (const port of pe.outputs.keys()) {
        const key = portKey(pe.id, port);
        rt.routes.set(port, {
          port,
          targets: [],
          external: config.externalPorts?.has(key) ?? false,
          result: config.unconnectedPorts.has(key),
        });
      }
    }
    for (const edge of config.localEdges) {
      const from = this.runtimes.get(edge.from);
      const to = this.runtimes.get(edge.to);
      if (!from || !to) throw new D4Error('D4_INTERNAL', `local edge ${edge.from.id} -> ${edge.to.id} leaves the engine`);
      const makeInputs = inputsMaker(edge.toPort);
      from.routes.get(edge.fromPort)!.targets.push((value) => this.runProcessCall(to, makeInputs(value)));
    }
    this.order = topologicalOrder(config.pes, config.localEdges).map((pe) => this.runtimes.get(pe)!);
  }

  /** Runs preprocess() of every instance, upstream first; their writes are delivered. */
  async preprocess(): Promise<void> {
    for (const rt of this.order) {
      CURRENT.depth++;
      try {
        await rt.pe.preprocess();
      } catch (error) {
        throw new PEError(rt.pe.id, 'preprocess', undefined, exitIfAsked(error, rt.pe.id, 'preprocess', undefined));
      } finally {
        CURRENT.depth--;
      }
    }
    for (const rt of this.order) await this.flush(rt, 'preprocess');
  }

  /** Runs postprocess() of every instance, upstream first, delivering what it writes. */
  async postprocess(): Promise<void> {
    for (const rt of this.order) await this.postprocessOne(rt.pe);
  }

  /** postprocess() of one instance, for mappings that end instances one at a time. */
  async postprocessOne(pe: GenericPE): Promise<void> {
    const rt = this.runtimes.get(pe)!;
    CURRENT.depth++;
    try {
      await rt.pe.postprocess();
    } catch (error) {
      throw new PEError(rt.pe.id, 'postprocess', undefined, exitIfAsked(error, rt.pe.id, 'postprocess', undefined));
    } finally {
      CURRENT.depth--;
    }
    await this.flush(rt, 'postprocess');
  }

  /**
   * One process() call of `pe` with its inputs, and every local consequence of it. When it
   * returns a promise (an async PE on the way), the caller must wait for it before the next
   * feed: an engine runs one delivery at a time, like one dispel4py process.
   */
  feed(pe: GenericPE, inputs: PEInputs): void | Promise<void> {
    // A backend's unit feeds one PE item after item: the Map lookup of each feed was ~2 % of
    // a zmq_multi worker's instructions on pipeline_test (callgrind).
    let rt = this.lastFed;
    if (rt === undefined || rt.pe !== pe) rt = this.lastFed = this.runtimes.get(pe)!;
    return this.runProcessCall(rt, inputs);
  }

  stats(): Record<string, PEStats> {
    const out: Record<string, PEStats> = {};
    for (const rt of this.runtimes.values()) {
      const s = (out[rt.pe.id] ??= { instances: 0, calls: 0, writes: 0, processMs: 0 });
      s.instances += 1;
      s.calls += rt.calls;
      s.writes += rt.writes;
      if (rt.timedCalls > 0) s.processMs += (rt.timedMs * rt.calls) / rt.timedCalls;
    }
    return out;
  }

  /**
   * One process() call and its writes. Kept small, so that V8 inlines it into the delivery
   * closures of the PE upstream: the rare paths (an async result, a throw, progress) are
   * methods of their own. Its name marks a synchronous call on the stack (peCallUnderWay).
   */
  private runProcessCall(rt: Runtime, inputs: PEInputs): void | Promise<void> {
    const n = ++rt.calls;
    if (rt.counters !== undefined) rt.counters[rt.counterSlot] = n;
    if (this.config.progress) this.countProgress(rt);
    const timed = n === rt.nextTimed;
    const start = timed ? startTiming(rt, n) : 0;
    let result: PEOutputs | Promise<PEOutputs>;
    try {
      result = rt.pe.process(inputs);
    } catch (error) {
      throw this.failed(rt, inputs, error);
    }
    if (result !== undefined && result !== null) {
      if (isThenable(result)) return this.settle(rt, inputs, result as Promise<PEOutputs>, timed, start);
      this.addReturned(rt, result);
    }
    if (timed) rt.timedMs += performance.now() - start;
    return this.flush(rt, inputs);
  }

  private countProgress(rt: Runtime): void {
    const calls = this.config.progress!.calls;
    calls[rt.pe.id] = (calls[rt.pe.id] ?? 0) + 1;
  }

  /** A call that threw (or rejected): it is over. */
  private failed(rt: Runtime, inputs: PEInputs, error: unknown): PEError {
    return new PEError(rt.pe.id, 'process', inputs, exitIfAsked(error, rt.pe.id, 'process', inputs));
  }

  /**
   * The rest of a call whose process() returned a promise: its writes go once it settles.
   * Counted in CURRENT.depth until then: what runs after its first await has no engine frame
   * below it.
   */
  private settle(rt: Runtime, inputs: PEInputs, result: Promise<PEOutputs>, timed: boolean, start: number): Promise<void> {
    CURRENT.depth++;
    return result.then(
      (value) => {
        CURRENT.depth--;
        if (timed) rt.timedMs += performance.now() - start;
        this.addReturned(rt, value);
        return this.flush(rt, inputs);
      },
      (error: unknown) => {
        CURRENT.depth--;
        throw this.failed(rt, inputs, error);
      },
    );
  }

  private addReturned(rt: Runtime, value: PEOutputs): void {
    if (value === undefined || value === null) return;
    if (typeof value !== 'object' || Array.isArray(value)) {
      throw new PEError(rt.pe.id, 'process', undefined, new TypeError(`process() must return {port: value} or nothing, got ${Array.isArray(value) ? 'an array' : typeof value}`));
    }
    for (const port in value) {
      const n = rt.outCount++;
      rt.outPorts[n] = port;
      rt.outValues[n] = (value as Record<string, unknown>)[port];
    }
  }

  /**
   * Delivers the writes of the call that just returned (no re-entry: the graph is acyclic).
   * `during` is that call's inputs, or the lifecycle method that wrote: an error names it.
   */
  private flush(rt: Runtime, during: During): void | Promise<void> {
    const ports = rt.outPorts;
    const values = rt.outValues;
    const carry = this.config.carry;
    for (let i = 0; i < rt.outCount; i++) {
      const route = this.route(rt, ports[i]) ?? this.undeclared(rt, ports[i], during);
      let value = values[i];
      // mayChange(), written out: called here it was not inlined (the loop's inlining budget
      // goes to the receivers' calls) and cost pipeline_test on simple ~10% of its CPU time.
      // One typeof, kept: three of them made this loop's bytecode, which V8 inlines into the
      // upstream PE's call, longer for every write. Numbers, the commonest writes, are let
      // through first (pipeline_test, 1M items: -29 M and -31 M instructions of ~4 400 M).
      if (carry !== undefined) {
        const type = typeof value;
        if (type !== 'number' && (type === 'object' ? value !== null : type === 'function' || type === 'symbol')) value = carry(value, rt.pe.id, route.port);
      }
      values[i] = undefined;
      this.deliverAway(rt, route, value);
      const targets = route.targets;
      for (let j = 0; j < targets.length; j++) {
        const pending = targets[j](value);
        if (pending !== undefined) return this.flushAsync(rt, during, i, j + 1, value, pending);
      }
    }
    rt.outCount = 0;
  }

  private async flushAsync(rt: Runtime, during: During, i: number, j: number, value: unknown, pending: Promise<void>): Promise<void> {
    await pending;
    const ports = rt.outPorts;
    const values = rt.outValues;
    for (; i < rt.outCount; i++, j = 0) {
      const route = this.route(rt, ports[i]) ?? this.undeclared(rt, ports[i], during);
      if (j === 0) {
        const carry = this.config.carry;
        value = values[i];
        if (carry !== undefined && mayChange(value)) value = carry(value, rt.pe.id, route.port);
        values[i] = undefined;
        this.deliverAway(rt, route, value);
      }
      for (; j < route.targets.length; j++) {
        const next = route.targets[j](value);
        if (next !== undefined) await next;
      }
    }
    rt.outCount = 0;
  }

  private route(rt: Runtime, port: string): PortRoute | undefined {
    const last = rt.lastRoute;
    if (last !== undefined && last.port === port) return last;
    const route = rt.routes.get(port);
    if (route) rt.lastRoute = route;
    return route;
  }

  /** A write to a port the PE does not declare fails the call that wrote it. */
  private undeclared(rt: Runtime, port: string, during: During): never {
    rt.outCount = 0;
    const phase = during === 'preprocess' || during === 'postprocess' ? during : 'process';
    throw new PEError(rt.pe.id, phase, phase === 'process' ? during : undefined, new Error(`wrote to port '${port}', which it does not declare; its outputs are: ${[...rt.pe.outputs.keys()].join(', ') || '(none)'}`));
  }

  private deliverAway(rt: Runtime, route: PortRoute, value: unknown): void {
    rt.writes++;
    if (route.result) this.config.collector.add(rt.pe.id, route.port, value);
    if (route.external) this.config.external!(rt.pe, route.port, value);
  }
}

/** Marks call `n` of `rt` as timed, picks the next one to time, and returns the start time. */
function startTiming(rt: Runtime, n: number): number {
  rt.timedCalls++;
  rt.nextTimed = n + (n < TIMED_FIRST ? 1 : TIMING_STRIDE / 2 + Math.floor(Math.random() * TIMING_STRIDE));
  return performance.now();
}

/** Whether crossing a boundary could refuse or change a value: primitives (most writes) never. */
function mayChange(value: unknown): boolean {
  return typeof value === 'object' ? value !== null : typeof value === 'function' || typeof value === 'symbol';
}

/** A function that builds `{port: value}` with a literal shape, which V8 handles fastest (a store under a computed key went megamorphic). */
export function inputsMaker(port: string): (value: unknown) => PEInputs {
  if (port === 'input') return (value) => ({ input: value });
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  return new Function('v', `return { ${JSON.stringify(port)}: v };`) as (value: unknown) => PEInputs;
}

/** PEs ordered so that every PE comes after those that feed it (join order otherwise). */
export function topologicalOrder(pes: readonly GenericPE[], edges: readonly PEEdge[]): GenericPE[] {
  const indegree = new Map<GenericPE, number>(pes.map((pe) => [pe, 0]));
  const next = new Map<GenericPE, GenericPE[]>();
  for (const e of edges) {
    if (!indegree.has(e.from) || !indegree.has(e.to)) continue;
    indegree.set(e.to, indegree.get(e.to)! + 1);
    (next.get(e.from) ?? next.set(e.from, []).get(e.from)!).push(e.to);
  }
  const out: GenericPE[] = [];
  const ready = pes.filter((pe) => indegree.get(pe) === 0);
  while (ready.length) {
    const pe = ready.shift()!;
    out.push(pe);
    for (const to of next.get(pe) ?? []) {
      const d = indegree.get(to)! - 1;
      indegree.set(to, d);
      if (d === 0) ready.push(to);
    }
  }
  return out;
}

/** Ports of the graph's PEs that no edge starts from: their writes are the run's results. */
export function unconnectedPorts(pes: readonly GenericPE[], edges: readonly PEEdge[]): Set<string> {
  const connected = new Set(edges.map((e) => portKey(e.from.id, e.fromPort)));
  const out = new Set<string>();
  for (const pe of pes) for (const port of pe.outputs.keys()) if (!connected.has(portKey(pe.id, port))) out.add(portKey(pe.id, port));
  return out;
}
