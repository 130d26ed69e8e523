import { OutputCollector } from './collector.js';
import { LocalEngine, unconnectedPorts } from './engine.js';
import { feedCall, feedSize, resolveInputs, type InputSpec, type RootFeed } from './inputs.js';
import { asLoadedWorkflow, type Mapping, type RunOptions, type RunResult, type WorkflowInput } from './mapping.js';
import type { GenericPE } from './pe.js';
import { D4Error } from './errors.js';

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
  options: [],
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
