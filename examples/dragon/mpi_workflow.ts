// Seed 004, the MPI workflow, with d4's ProcessGroup and Executor:
// - producers: at most two at a time and five in all; each runs the all-to-all benchmark as
//   one MPI job of RANKS ranks, the head rank's stdout piped, the other ranks' to /dev/null;
// - a parser per producer: the head rank's lines stream through a pool of parser workers
//   (Executor.map over the line iterable), which turn "<size> <latency>" lines into records
//   on the shared results queue;
// - a consumer reads the queue and logs each record;
// - the main loop starts a new producer whenever one ends (multiJoin, Dragon's multi_join).
// Run: npx tsx examples/dragon/mpi_workflow.ts   → "main:", "producer i:" and "consumer:" lines
import { Executor, ProcessGroup, multiJoin, type Joinable } from '@d4/executor';
import { ALLTOALL_ARGS, buildAlltoall, mpiexecArgs, parseLine } from './alltoall.js';
import { ResultsQueue } from './results-queue.js';

const TOTAL_RUNS = 5;
const SIMULTANEOUS = 2;
const RANKS = Number(process.env.D4_RANKS_PER_JOB ?? 2);

interface Result {
  producer: number;
  size: number;
  latency: number;
}

const log = (who: string, message: string) => console.log(`${who}: ${message}`);

class Producer implements Joinable {
  readonly #run: Promise<void>;
  done = false;
  constructor(
    readonly id: number,
    binary: string,
    parsers: Executor,
    results: ResultsQueue<Result>,
  ) {
    this.#run = this.#produce(binary, parsers, results).finally(() => (this.done = true));
  }

  ended(): Promise<void> {
    return this.#run;
  }

  async #produce(binary: string, parsers: Executor, results: ResultsQueue<Result>): Promise<void> {
    const who = `producer ${this.id}`;
    log(who, `starting (${RANKS} ranks)`);
    const group = new ProcessGroup({ mpi: true, mpiexecArgs: mpiexecArgs() });
    group.add({ nproc: 1, command: binary, args: ALLTOALL_ARGS, stdout: 'pipe' });
    group.add({ nproc: RANKS - 1, command: binary, args: ALLTOALL_ARGS, stdout: 'ignore' });
    await group.start();
    const hosts = new Map<string, number>();
    for (const p of group.processes) hosts.set(p.host!, (hosts.get(p.host!) ?? 0) + 1);
    log(who, [...hosts].map(([host, n]) => `host ${host} has ${n} ranks`).join(', '));
    let lines = 0;
    for await (const record of parsers.map(parseLine, group.processes[0].stdout!)) {
      lines++;
      if (record) results.put({ producer: this.id, ...record });
    }
    await group.join();
    const codes = group.processes.map((p) => p.exitCode ?? p.signal);
    await group.stop();
    if (codes.some((code) => code !== 0)) throw new Error(`${who}: the MPI job failed (exit codes ${JSON.stringify(codes)})`);
    log(who, `done (${lines} lines parsed)`);
  }
}

const binary = buildAlltoall();
const results = new ResultsQueue<Result>();
const consumer = (async () => {
  log('consumer', 'reading from the results queue');
  for await (const record of results) log('consumer', JSON.stringify(record));
  log('consumer', 'done');
})();

{
  await using parsers = new Executor({ maxWorkers: 2, blockAllocation: true });
  let finished = 0;
  let started = 0;
  let running: Producer[] = [];
  while (finished < TOTAL_RUNS) {
    while (running.length < Math.min(SIMULTANEOUS, TOTAL_RUNS - finished)) {
      log('main', `starting producer ${started}`);
      running.push(new Producer(started++, binary, parsers, results));
    }
    const { done, pending } = await multiJoin(running);
    for (const producer of done) await producer.ended(); // a failed producer fails the run
    log('main', `${done.length} producer(s) ended`);
    finished += done.length;
    running = pending;
  }
}
results.close();
await consumer;
log('main', `done: ${TOTAL_RUNS} producers`);
