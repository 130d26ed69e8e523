// Where a round trip's time goes, for `mpi-pingpong.ts --trace` (run with D4_MPI_TRACE=1):
// the sender writes process.hrtime into the message's first 8 bytes, the addon stamps
// each receive's stages (native/trace.h), and rank 0 prints the median of each stage of
// one hop. CLOCK_MONOTONIC is one clock for every process of the host, so the sender's
// stamp reads against the receiver's.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Communicator } from '@d4/mpi';

const FIELDS = 6; // posted, matched, queued, drained, settled, threaded (native/trace.cc)

interface AddonProbes {
  trace: () => Float64Array;
  /** Absent from builds before the counters. */
  counters?: () => Record<string, number>;
}

function traceOfAddon(): AddonProbes {
  // The addon @d4/mpi loaded (a .node file is loaded once a process; this is the same one).
  const require = createRequire(import.meta.url);
  const root = dirname(require.resolve('@d4/mpi/package.json'));
  const addon = require(join(root, 'build', 'Release', 'd4_mpi.node')) as Partial<AddonProbes>;
  if (!addon.trace) throw new Error('this build of @d4/mpi has no trace(): rebuild it');
  return { trace: addon.trace, counters: addon.counters };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;
const us = (ns: number) => Math.round(ns / 10) / 100;

/** `trips` round trips of `bytes` through sendBytes/recvBytes; rank 0 prints one JSON line. */
export async function traceHops(world: Communicator, bytes: number, trips: number): Promise<void> {
  if (process.env.D4_MPI_TRACE !== '1') throw new Error('--trace needs D4_MPI_TRACE=1 in the environment (mpiexec -x D4_MPI_TRACE=1 …)');
  const { trace, counters } = traceOfAddon();
  const peer = 1 - world.rank;
  const payload = Buffer.alloc(bytes, 7);
  const hops: Array<[sent: number, continued: number]> = [];
  await world.barrier();
  trace(); // forget the receives before this
  const countedBefore = counters?.();
  for (let i = 0; i < trips; i++) {
    if (world.rank === 0) {
      payload.writeBigInt64LE(process.hrtime.bigint(), 0);
      await world.sendBytes(payload, peer);
      const { data } = await world.recvBytes({ source: peer });
      hops.push([Number(data.readBigInt64LE(0)), Number(process.hrtime.bigint())]);
    } else {
      const { data } = await world.recvBytes({ source: peer });
      data.writeBigInt64LE(process.hrtime.bigint(), 0);
      await world.sendBytes(data, peer);
    }
  }
  const records = trace();
  // Per round trip, on this rank: how its receives and sends ended, and its yields.
  const counted = counters?.();
  const perTrip = counted && countedBefore ? Object.fromEntries(Object.entries(counted).map(([name, n]) => [name, Math.round(((n - (countedBefore[name] ?? 0)) / trips) * 1000) / 1000])) : 'this build has no counters()';
  const peerCounts = await world.gather(perTrip, 0);
  await world.barrier();
  if (world.rank !== 0) return;
  const stage = (f: (r: Float64Array, hop: [number, number]) => number) =>
    us(median(hops.map((hop, i) => f(records.subarray(i * FIELDS, (i + 1) * FIELDS), hop))));
  const threaded = hops.filter((_, i) => records[i * FIELDS + 5] === 1).length;
  console.log(
    JSON.stringify({
      bench: 'mpi-hop-trace',
      bytes,
      trips,
      medianUs: {
        hop: stage((_, [sent, continued]) => continued - sent),
        sentToMatched: stage((r, [sent]) => r[1] - Math.max(sent, r[0])),
        matchedToQueued: stage((r) => (r[5] ? r[2] - r[1] : 0)),
        queuedToCallback: stage((r) => (r[5] ? r[3] - r[2] : 0)),
        // From the event loop's callback (threaded) or from the match (inline: the receive itself)
        toResolved: stage((r) => r[4] - (r[5] ? r[3] : r[1])),
        resolvedToContinuation: stage((r, [, continued]) => continued - r[4]),
      },
      threadedShare: Math.round((threaded / hops.length) * 100) / 100,
      perTripCounts: { rank0: peerCounts?.[0], rank1: peerCounts?.[1] },
    }),
  );
}
