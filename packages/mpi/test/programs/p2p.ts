// Point-to-point: every kind of value from rank 0 to each other rank and back, tags
// matched out of arrival order, any-source receives, and the bytes fast path.
import { MPI } from '../../src/index.js';
import { main, report } from './report.js';

const values = (rank: number) => ({
  text: `hello ${rank}`,
  nested: { list: [1, 'two', null, true], map: new Map<string, number>([['a', rank]]), big: 2n ** 70n + BigInt(rank) },
  float64: Float64Array.from({ length: 5 }, (_, i) => i * 1.5 + rank),
  int16: Int16Array.of(-3, rank, 32767),
  buffer: Buffer.from(`bytes for ${rank}`),
});

main(async () => {
  const world = await MPI.init();
  const { rank, size } = world;
  if (rank === 0) {
    const kinds = Object.entries(values(0)).map(([kind]) => kind);
    for (let dest = 1; dest < size; dest++) for (const [i, value] of Object.values(values(dest)).entries()) await world.send(value, dest, 10 + i);
    // Echoes come back from every rank in any order: receive them from any source.
    const echoes: Record<string, unknown> = {};
    for (let n = 0; n < (size - 1) * kinds.length; n++) {
      const { value, source, tag } = await world.recv();
      echoes[`${source}:${kinds[tag - 10]}`] = value;
    }
    // Tag matching: rank 1 sends tag 2 and then tag 1; they are taken in the other order.
    await world.send('go', 1, 3);
    const first = await world.recv({ source: 1, tag: 1 });
    const second = await world.recv({ source: 1, tag: 2 });
    const bytes = await world.recvBytes();
    // Payloads over 4 KB follow their header as a second message; any-source receives
    // posted before they arrive and after must still get header and payload together.
    const early = world.recv({ tag: 20 });
    await world.send('large', 1, 3);
    const first20 = await early;
    await new Promise((resolve) => setTimeout(resolve, 50));
    const late = await world.recv();
    const big = first20.value as Int32Array;
    const large = [big.constructor.name, big.length, big[0], big[29_999], (late.value as { text: string }).text.length, late.tag];
    const f64 = (echoes['1:float64'] as Float64Array);
    report(rank, {
      echoes,
      first: [first.value, first.tag],
      second: [second.value, second.tag],
      bytes: [Buffer.from(bytes.data).toString(), bytes.source, bytes.tag, bytes.data.byteLength],
      // A typed array arrives as a view of the received message (8 header bytes), not a copy.
      float64View: [f64.byteOffset, f64.buffer.byteLength - f64.byteLength],
      large,
    });
  } else {
    for (let i = 0; i < 5; i++) {
      const { value, source, tag } = await world.recv({ source: 0, tag: 10 + i });
      if (source !== 0) throw new Error(`rank ${rank} got tag ${tag} from ${source}`);
      await world.send(value, 0, tag);
    }
    if (rank === 1) {
      await world.recv({ source: 0, tag: 3 });
      await world.send('tag two', 0, 2);
      await world.send('tag one', 0, 1);
      await world.sendBytes(new TextEncoder().encode('raw frame'), 0, 77);
      await world.recv({ source: 0, tag: 3 });
      await world.send(Int32Array.from({ length: 30_000 }, (_, i) => i * 3), 0, 20);
      await world.send({ text: 'z'.repeat(100_000) }, 0, 21);
    }
    report(rank, { echoed: 5 });
  }
  await MPI.finalize();
});
