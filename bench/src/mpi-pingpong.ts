// Round trips between two ranks through @d4/mpi's JavaScript API, beside issue 13's goals
// (64 B under 10 us, 64 KB under 60 us), plus what a rank costs while idle with a receive
// pending (the progress thread backs off instead of spinning). Run by mpiexec:
//   mpiexec --allow-run-as-root -n 2 --bind-to none npx tsx bench/src/mpi-pingpong.ts
// Prints one JSON line per (path, size) on rank 0, with the raw C ping-pong's figure of
// the same size measured right after (mpi-pingpong-c.ts), and an idle line; --quick for
// fewer trips; --bytes N for one size; --trace (with D4_MPI_TRACE=1) for where a hop's
// time goes instead.
import { MPI, type Communicator } from '@d4/mpi';
import { runCBaseline } from './mpi-pingpong-c.js';
import { traceHops } from './mpi-pingpong-trace.js';

const quick = process.argv.includes('--quick');
const only = process.argv.indexOf('--bytes'); // --bytes 65536: that size alone
const SIZES = [
  { bytes: 64, goalUs: 10, trips: quick ? 2_000 : 20_000 },
  { bytes: 64 * 1024, goalUs: 60, trips: quick ? 500 : 4_000 },
].filter(({ bytes }) => only < 0 || bytes === Number(process.argv[only + 1]));
const BATCHES = 5;

type Path = 'bytes' | 'value';

/** One batch of `trips` round trips; rank 0's elapsed microseconds per round trip. */
async function batch(world: Command, path: Path, payload: Uint8Array, trips: number): Promise<number> {
  const peer = 1 - world.rank;
  const start = process.hrtime.bigint();
  for (let i = 0; i < trips; i++) {
    if (world.rank === 0) {
      await world.out(path, payload, peer);
      await world.in(path, peer);
    } else {
      const echo = await world.in(path, peer);
      await world.out(path, echo, peer);
    }
  }
  return Number(process.hrtime.bigint() - start) / 1000 / trips;
}

interface Command {
  rank: number;
  out(path: Path, payload: Uint8Array, dest: number): Promise<void>;
  in(path: Path, source: number): Promise<Uint8Array>;
}

function command(world: Communicator): Command {
  return {
    rank: world.rank,
    out: (path, payload, dest) => (path === 'bytes' ? world.sendBytes(payload, dest) : world.send(payload, dest)),
    in: async (path, source) => (path === 'bytes' ? (await world.recvBytes({ source })).data : (await world.recv<Uint8Array>({ source })).value),
  };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const round = (us: number) => Math.round(us * 100) / 100;

async function main(): Promise<void> {
  const world = await MPI.init();
  if (world.size !== 2) throw new Error(`run with mpiexec -n 2 (this world has ${world.size} ranks)`);
  if (process.argv.includes('--trace')) {
    for (const { bytes, trips } of SIZES) await traceHops(world, bytes, trips);
    await MPI.finalize();
    return;
  }
  const cmd = command(world);
  const rows: Array<Record<string, unknown>> = [];
  for (const path of ['bytes', 'value'] as const) {
    for (const { bytes, goalUs, trips } of SIZES) {
      const payload = new Uint8Array(bytes).fill(7);
      await batch(cmd, path, payload, Math.ceil(trips / 10)); // warm-up
      const perTrip: number[] = [];
      for (let b = 0; b < BATCHES; b++) perTrip.push(await batch(cmd, path, payload, trips));
      if (world.rank === 0) {
        const med = median(perTrip);
        rows.push({ bench: 'mpi-pingpong', path: path === 'bytes' ? 'sendBytes/recvBytes' : 'send/recv (codec)', bytes, trips, batches: BATCHES, roundTripUs: { median: round(med), min: round(Math.min(...perTrip)), max: round(Math.max(...perTrip)) }, goalUs, met: med < goalUs, library: MPI.libraryVersion.split(',')[0], node: process.version });
      }
      await world.barrier();
    }
  }
  // Idle: rank 0 waits for one message that rank 1 sends after a second; CPU time of rank
  // 0's whole process over that second, as a share of one core.
  if (world.rank === 0) {
    const before = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await world.recv({ source: 1, tag: 9 });
    const wallUs = Number(process.hrtime.bigint() - t0) / 1000;
    const used = process.cpuUsage(before);
    rows.push({ bench: 'mpi-idle', waitedMs: Math.round(wallUs / 1000), cpuPercentOfOneCore: round(((used.user + used.system) / wallUs) * 100) });
  } else {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await world.send('wake', 0, 9);
  }
  const rank = world.rank;
  await MPI.finalize();
  if (rank !== 0) return;
  const c = runCBaseline();
  for (const row of rows) {
    if (row.bench === 'mpi-pingpong') row.cRoundTripUs = c.ok ? (c.roundTripUs.get(row.bytes as number) ?? null) : c.why;
    console.log(JSON.stringify(row));
  }
}

main().catch((error: Error) => {
  console.error(`mpi-pingpong: ${error.message}`);
  process.exitCode = 1;
  if (MPI.initialized) MPI.COMM_WORLD.abort(1);
});
