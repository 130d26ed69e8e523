// 64 MB messages: a Float64Array through send/recv, raw bytes back through sendBytes,
// and a codec value holding a 64 MB Buffer through bcast, each checked element by element.
import { MPI } from '../../src/index.js';
import { main, report } from './report.js';

const MB64 = 64 * 1024 * 1024;
function floats(): Float64Array {
  const array = new Float64Array(MB64 / 8);
  for (let i = 0; i < array.length; i++) array[i] = i * 0.5;
  return array;
}
function bytes(): Buffer {
  const buffer = Buffer.allocUnsafe(MB64);
  for (let i = 0; i < buffer.length; i++) buffer[i] = (i * 7) & 255;
  return buffer;
}

function firstMismatch(got: ArrayLike<number>, want: ArrayLike<number>): number {
  if (got.length !== want.length) return -2;
  for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) return i;
  return -1;
}

main(async () => {
  const world = await MPI.init();
  const { rank } = world;
  const fields: Record<string, unknown> = {};
  if (rank === 0) {
    await world.send(floats(), 1, 1);
    const back = await world.recvBytes({ source: 1, tag: 2 });
    fields.bytesBack = [back.data.byteLength, firstMismatch(back.data, bytes())];
  } else if (rank === 1) {
    const { value } = await world.recv<Float64Array>({ source: 0, tag: 1 });
    fields.floats = [value.constructor.name, value.length, firstMismatch(value, floats())];
    await world.sendBytes(bytes(), 0, 2);
  }
  const shared = await world.bcast(rank === 0 ? { name: 'blob', blob: bytes() } : undefined, 0);
  fields.bcast = [shared.name, shared.blob.byteLength, firstMismatch(shared.blob, bytes())];
  report(rank, fields);
  await MPI.finalize();
});
