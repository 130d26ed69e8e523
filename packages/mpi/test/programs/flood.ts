// A flood of messages that are all there before the receiver starts: rank 1 sends 2 000
// small ones and both ranks meet at a barrier; then rank 0 receives them in a loop of
// `await recv()` with a timer due at once. The timer must fire during the loop, not after.
import { MPI } from '../../src/index.js';
import { main, report } from './report.js';

const COUNT = 2000;

main(async () => {
  const world = await MPI.init();
  if (world.rank === 1) {
    for (let i = 0; i < COUNT; i++) await world.send(i, 0, 5);
    await world.barrier();
    report(1, { sent: COUNT });
  } else {
    await world.barrier();
    let received = 0;
    let timerFiredAt = -1;
    setTimeout(() => (timerFiredAt = received), 0);
    const values: number[] = [];
    while (received < COUNT) {
      values.push((await world.recv<number>({ source: 1, tag: 5 })).value);
      received++;
    }
    report(0, { timerFiredAt, inOrder: values.every((v, i) => v === i), received });
  }
  await MPI.finalize();
});
