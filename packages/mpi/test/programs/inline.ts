// The JavaScript thread's own receives (matched where the message is already here, or
// caught by a short spin) beside the progress thread's: order, tags and any-source, and
// messages too large to receive there. Run with D4_MPI_TRACE=1: each receive's path
// (inline or threaded) is read from the addon's trace, in posting order.
import { MPI, type Communicator } from '../../src/index.js';
import { addon } from '../../src/load-addon.js';
import { main, report } from './report.js';

const KB = 1024;
// Cycled through by the ordered stream: a small value, one sent as header + payload
// (over 4 KB), one whose payload exceeds what the JavaScript thread receives (128 KB),
// and one in between, received there with MPI_Imrecv.
const SIZES = [16, 10 * KB, 200 * KB, 64 * KB];
const STREAM = 12;

const fill = (seq: number, length: number) => Uint8Array.from({ length }, (_, j) => (seq * 7 + j) & 255);
const intact = (seq: number, bytes: Uint8Array) => bytes.every((b, j) => b === ((seq * 7 + j) & 255));

/** Paths of the receives settled since the last call, in the order they were posted. */
function paths(): string[] {
  const t = addon().trace();
  const rows = Array.from({ length: t.length / 6 }, (_, i) => [t[i * 6], t[i * 6 + 5]] as const);
  return rows.sort((a, b) => a[0] - b[0]).map(([, threaded]) => (threaded ? 'threaded' : 'inline'));
}

async function root(world: Communicator): Promise<Record<string, unknown>> {
  // 1. A stream of one tag, all of it here before the first receive: 4 posted at once, 4
  // one by one, 4 at once. Whatever path each takes, they come in the order sent.
  await world.recv({ source: 1, tag: 2 }); // rank 1 has sent all of it
  paths();
  const got: Array<{ value: { seq: number; bytes: Uint8Array } }> = [];
  got.push(...(await Promise.all(Array.from({ length: 4 }, () => world.recv<{ seq: number; bytes: Uint8Array }>({ source: 1, tag: 5 })))));
  for (let i = 0; i < 4; i++) got.push(await world.recv({ source: 1, tag: 5 }));
  got.push(...(await Promise.all(Array.from({ length: 4 }, () => world.recv<{ seq: number; bytes: Uint8Array }>({ source: 1, tag: 5 })))));
  const stream = got.map(({ value }) => [value.seq, value.bytes.length, intact(value.seq, value.bytes)]);
  const streamPaths = paths();

  // 2. Any-source and tags, every message here already: ranks 1 and 2 each sent tag 30
  // then tag 31, then 'done' on tag 2.
  await world.recv({ source: 1, tag: 2 });
  await world.recv({ source: 2, tag: 2 });
  paths();
  const a = await world.recv<string>({ tag: 31 });
  const b = await world.recv<string>({ source: a.source });
  const c = await world.recv<string>({ tag: 30 });
  const d = await world.recv<string>();
  const anySource = [a, b, c, d].map((m) => [m.value, m.source, m.tag]);
  const anyPaths = paths();

  // 3. Posted long before its message (rank 1 waits 50 ms): the spin gives up and the
  // progress thread receives it; then one already here, raw bytes over 128 KB.
  const early = world.recvBytes({ source: 1, tag: 6 });
  await world.send('now', 1, 1);
  const late = await early;
  const latePaths = paths();
  await world.recv({ source: 1, tag: 2 });
  paths();
  const big = await world.recvBytes({ source: 1, tag: 7 });
  const fallback = [Buffer.from(late.data).toString(), big.data.length, intact(7, big.data)];
  const fallbackPaths = [...latePaths, ...paths()];

  // 4. A ping-pong of every size, each trip checked: the spins on both sides.
  let pingPong = 0;
  for (let trip = 0; trip < 200; trip++) {
    const size = SIZES[trip % SIZES.length];
    await world.sendBytes(fill(trip, size), 1, 8);
    const echo = await world.recvBytes({ source: 1, tag: 8 });
    if (echo.data.length === size && intact(trip, echo.data)) pingPong += 1;
  }
  return { stream, streamPaths, anySource, anyPaths, fallback, fallbackPaths, pingPong };
}

async function sender(world: Communicator): Promise<void> {
  if (world.rank === 1) {
    // Not awaited one by one: the large ones complete only once rank 0 receives them.
    const sends = Array.from({ length: STREAM }, (_, seq) => world.send({ seq, bytes: fill(seq, SIZES[seq % SIZES.length]) }, 0, 5));
    await world.send('sent', 0, 2);
    await Promise.all(sends);
  }
  await world.send(`${world.rank}:30`, 0, 30);
  await world.send(`${world.rank}:31`, 0, 31);
  await world.send('done', 0, 2);
  if (world.rank !== 1) return;
  await world.recv({ source: 0, tag: 1 });
  await new Promise((resolve) => setTimeout(resolve, 50));
  await world.sendBytes(Buffer.from('late'), 0, 6);
  const big = world.sendBytes(fill(7, 200 * KB), 0, 7);
  await world.send('sent', 0, 2);
  await big;
  for (let trip = 0; trip < 200; trip++) {
    const { data } = await world.recvBytes({ source: 0, tag: 8 });
    await world.sendBytes(data, 0, 8);
  }
}

main(async () => {
  const world = await MPI.init();
  if (world.rank === 0) report(0, await root(world));
  else {
    await sender(world);
    report(world.rank, { done: true });
  }
  await MPI.finalize();
});
