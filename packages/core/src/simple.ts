import { OutputCollector } from './collector.js';
import { LocalEngine, unconnectedPorts } from './engine.js';
import { feedCall, feedSize, resolveInputs, type InputSpec, type RootFeed } from './inputs.js';
import { asLoadedWorkflow, type Mapping, type RunOptions, type RunResult, type WorkflowInput } from './mapping.js';
import type { GenericPE } from './pe.js';
import { D4Error, OptionError } from './errors.js';
import { asCarried } from './codec.js';

/**
 * Feeds one root its calls, giving the event loop a turn every few milliseconds so that
 * timers (progress lines, abort signals, worker messages) keep running during long
 * synchronous stretches.
 */
export async function feedRoot(engine: LocalEngine, pe: GenericPE, feed: RootFeed, signal?: AbortSignal): Promise<void> {
  let nextTurn = performance.now() + 20;
  const total = feedSize(feed);
  for (let k = 0; k < total; k++) {
    const pending = engine.feed(pe, feedCall(feed, k));
    if (pending !== undefined) await pending;
    if ((k & 1023) === 1023 && performance.now() > nextTurn) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (signal?.aborted) throw abortError(signal);
      nextTurn = performance.now() + 20;
    }
  }
}

/** simple's strict mode (default on): every written value is checked and converted as the codec would. */
function strictOption(options: RunOptions): boolean {
  const value: unknown = options.strict;
  if (value === undefined || value === null || value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new OptionError(`option strict is a flag (true or false), got ${JSON.stringify(value)}`);
}

export function abortError(signal: AbortSignal): D4Error {
  return new D4Error('D4_ABORTED', `the run was aborted${signal.reason ? `: ${String(signal.reason)}` : ''}`, { cause: signal.reason });
}

/**
 * `simple`: the embedded default. Sequential and in-process, one instance per PE, items
 * streamed depth-first with bounded memory.
 */
export const simpleMapping: Mapping = {
  name: 'simple',
  description: 'sequential, in-process; one instance per PE, depth-first with bounded memory (no server)',
  stateful: true,
  options: [
    {
      name: 'strict',
      flags: '--no-strict',
      description:
        'turn strict mode off: written values pass by reference, unchecked (faster for large objects); functions then pass and class instances keep their class, where every other mapping refuses them or delivers plain objects',
      type: 'boolean',
    },
  ],
  async run(workflow: WorkflowInput, inputs: InputSpec = {}, options: RunOptions = {}): Promise<RunResult> {
    const started = performance.now();
    const graph = asLoadedWorkflow(workflow).graph.flatten().validate();
    const feeds = resolveInputs(graph, inputs);
    const pes = graph.pes();
    const edges = graph.peEdges();
    for (const pe of pes) {
      pe.instance = 0;
      pe.numInstances = 1;
    }
    const collector = new OutputCollector(options);
    const engine = new LocalEngine({
      pes,
      localEdges: edges,
      unconnectedPorts: unconnectedPorts(pes, edges),
      collector,
      carry: strictOption(options) ? asCarried : undefined,
      log: options.log,
      progress: options.progress,
    });
    if (options.signal?.aborted) throw abortError(options.signal);
    await engine.preprocess();
    for (const feed of feeds) await feedRoot(engine, graph.peById(feed.peId)!, feed, options.signal);
    await engine.postprocess();
    return {
      outputs: collector.outputs,
      counts: collector.counts,
      stats: { mapping: 'simple', elapsedMs: performance.now() - started, pes: engine.stats() },
    };
  },
};
