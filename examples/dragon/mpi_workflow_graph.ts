// Seed 004's workflow as a d4 stream graph: the same producers, parser and consumer as
// mpi_workflow.ts, as PEs joined by ports, so any mapping can run it (run_mpi_workflow_graph.ts
// runs it on simple and multi):
//   Jobs → RunAlltoall (2 instances: two MPI jobs at a time) → ParseResults → LogResults
// RunAlltoall runs the benchmark as one MPI job through a ProcessGroup and writes each line
// of the head rank as it comes; ParseResults turns lines into records; LogResults logs them
// and writes them to its unconnected output, which every mapping returns.
// Run: npx d4 run multi examples/dragon/mpi_workflow_graph.ts -n 5   (or simple: npx d4 run simple examples/dragon/mpi_workflow_graph.ts)
import { IterativePE, ProducerPE, WorkflowGraph } from '@d4/core';
import { ProcessGroup } from '@d4/executor';
import { ALLTOALL_ARGS, buildAlltoall, mpiexecArgs, parseLine } from './alltoall.js';

const TOTAL_RUNS = 5;
const RANKS = 2;

/** The producers to run, 0 to 4 (a source: it runs once). */
export class Jobs extends ProducerPE {
  constructor() {
    super('Jobs');
  }
  _process(): void {
    for (let id = 0; id < TOTAL_RUNS; id++) this.write('output', id);
  }
}

export interface Line {
  producer: number;
  line: string;
}

/** One producer per input: an MPI job of RANKS ranks, the head rank's lines written out as they come. */
export class RunAlltoall extends IterativePE {
  #binary = '';
  constructor() {
    super('RunAlltoall');
    // Two instances: at most two MPI jobs at once; each takes the next producer id when its job ends.
    this.numprocesses = 2;
  }
  override preprocess(): void {
    this.#binary = buildAlltoall();
  }
  async _process(producer: number): Promise<void> {
    const group = new ProcessGroup({ mpi: true, mpiexecArgs: mpiexecArgs() });
    group.add({ nproc: 1, command: this.#binary, args: ALLTOALL_ARGS, stdout: 'pipe' });
    group.add({ nproc: RANKS - 1, command: this.#binary, args: ALLTOALL_ARGS, stdout: 'ignore' });
    await group.start();
    this.log(`producer ${producer}: ${RANKS} ranks on ${[...new Set(group.processes.map((p) => p.host))].join(', ')}`);
    for await (const line of group.processes[0].stdout!) this.write('output', { producer, line } satisfies Line);
    await group.join();
    const codes = group.processes.map((p) => p.exitCode ?? p.signal);
    if (codes.some((code) => code !== 0)) throw new Error(`producer ${producer}: the MPI job failed (exit codes ${JSON.stringify(codes)})`);
  }
}

export interface Record {
  producer: number;
  size: number;
  latency: number;
}

/** "<size> <latency>" lines become records; the benchmark's comment lines are dropped. */
export class ParseResults extends IterativePE {
  constructor() {
    super('ParseResults');
  }
  _process({ producer, line }: Line): Record | undefined {
    const parsed = parseLine(line);
    return parsed && { producer, ...parsed };
  }
}

/** The consumer: logs each record and hands it on to the run's results. */
export class LogResults extends IterativePE {
  constructor() {
    super('LogResults');
  }
  _process(record: Record): Record {
    this.log(`consumer: ${JSON.stringify(record)}`);
    return record;
  }
}

export default function mpiWorkflow(): WorkflowGraph {
  const graph = new WorkflowGraph();
  const run = new RunAlltoall();
  const parse = new ParseResults();
  graph.connect(new Jobs(), 'output', run, 'input');
  graph.connect(run, 'output', parse, 'input');
  graph.connect(parse, 'output', new LogResults(), 'input');
  return graph;
}
