import { rebuildWorkflow } from '@d4/core';
import { checkSameGraph } from '../graph-check.js';
import type { MultiPlan } from '../plans/fixed.js';
import type { LinkFrame } from '../protocol.js';
import type { FixedTransport, Link } from '../transport.js';
import { FixedUnit, type FixedWorkerJob } from './fixed-unit.js';
import { reportCalls } from './progress-reports.js';
import type { Report } from './result-sink.js';

/** The units each unit sends to and receives from: one link per pair that an edge can carry items over. */
export interface UnitLinks {
  inbound: number[][];
  outbound: number[][];
}

/** The links of a fixed plan, in edge order; the driver and every worker compute the same. */
export function unitLinks(plan: MultiPlan, edges: ReadonlyArray<{ from: string; to: string }>): UnitLinks {
  const inbound: number[][] = plan.units.map(() => []);
  const outbound: number[][] = plan.units.map(() => []);
  const made = new Set<string>();
  for (const e of edges) {
    for (const u of plan.instanceUnits[e.from]) {
      for (const v of plan.instanceUnits[e.to]) {
        if (u === v || made.has(`${u}>${v}`)) continue;
        made.add(`${u}>${v}`);
        outbound[u].push(v);
        inbound[v].push(u);
      }
    }
  }
  return { inbound, outbound };
}

/**
 * Both ends of a link between two units of the same worker. Batches pass as arrays, by
 * reference (as between PEs in `simple`), with no encoding; delivery is synchronous, which
 * is safe because a delivery only queues the batch and wakes the receiver's loop.
 */
class LocalLink implements Link {
  other!: LocalLink;
  private listener: ((frame: LinkFrame) => void) | undefined;
  onFrame(listener: (frame: LinkFrame) => void): void {
    this.listener = listener;
  }
  send(frame: LinkFrame): void {
    this.other.listener!(frame);
  }
  static pair(): [LocalLink, LocalLink] {
    const a = new LocalLink();
    const b = new LocalLink();
    a.other = b;
    b.other = a;
    return [a, b];
  }
}

/**
 * A worker of a fixed plan runs one or more units, each in its own cooperative loop. The
 * graph is rebuilt once per worker; the driver never puts two instances of one PE in the
 * same worker, so each unit has PE objects of its own. Units of this worker are linked in
 * memory; the others through the transport.
 */
export async function runFixedWorker(job: FixedWorkerJob, transport: FixedTransport): Promise<void> {
  const graph = (await rebuildWorkflow(job.source)).flatten().validate();
  checkSameGraph(graph, job.plan.peIds, job.source.module);
  const allPes = graph.pes();
  const edges = graph.peEdges();
  const { inbound, outbound } = unitLinks(job.plan, edges.map((e) => ({ from: e.from.id, to: e.to.id })));
  const hosted = new Set(job.units);
  const localPairs = new Map<string, [LocalLink, LocalLink]>();
  const localEnd = (from: number, to: number, end: 0 | 1): LocalLink => {
    const key = `${from}>${to}`;
    let pair = localPairs.get(key);
    if (!pair) localPairs.set(key, (pair = LocalLink.pair()));
    return pair[end];
  };
  const send: Report = (message) => transport.report(message);
  const reporting = job.reportProgress ? reportCalls(job, send) : undefined;
  const report: Report = (message) => {
    if (message.type === 'done') reporting?.last(message.source);
    send(message);
  };
  const counters = reporting?.counters ?? job.counters;
  const units = job.units.map((unit, k) => {
    const pes = job.plan.units[unit].peIds.map((id) => allPes.find((p) => p.id === id)!);
    const ports = {
      inbound: inbound[unit].map((from) => (hosted.has(from) ? localEnd(from, unit, 1) : transport.link(from, unit))),
      outbound: outbound[unit].map((to) => (hosted.has(to) ? { to, link: localEnd(unit, to, 0), local: true } : { to, link: transport.link(unit, to), local: false })),
    };
    return new FixedUnit(job, unit, ports, pes, allPes, edges, report, counters?.[k]);
  });
  for (const unit of job.units) report({ type: 'ready', source: unit });
  try {
    await Promise.all(units.map((unit) => unit.run()));
  } finally {
    reporting?.stop();
  }
}
