// abort(): rank 1 ends the job while rank 0 waits in a receive and the others in a barrier.
import { MPI } from '../../src/index.js';
import { main, report } from './report.js';

main(async () => {
  const world = await MPI.init();
  report(world.rank, { started: true });
  if (world.rank === 1) {
    await world.send('about to abort', 0, 1);
    world.abort(3);
  }
  if (world.rank === 0) {
    report(0, { got: (await world.recv({ source: 1, tag: 1 })).value });
    await world.recv({ source: 1, tag: 2 }); // never sent
  } else {
    await world.barrier(); // rank 1 never enters it
  }
  report(world.rank, { finished: true });
  await MPI.finalize();
});
