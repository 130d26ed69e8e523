// A process started without a launcher: a world of size 1, with the errors of using MPI
// too early, wrongly and too late.
import { hostname } from 'node:os';
import { MPI } from '../../src/index.js';
import { main, report } from './report.js';

async function failure(run: () => unknown): Promise<[string, string]> {
  try {
    await run();
    return ['no error', ''];
  } catch (error) {
    const { code, message } = error as { code: string; message: string };
    return [code, message];
  }
}

main(async () => {
  const early = await failure(() => MPI.COMM_WORLD.rank);
  const earlySend = await failure(() => MPI.COMM_WORLD.send(1, 0));
  const version = MPI.libraryVersion;
  const [world, again] = await Promise.all([MPI.init(), MPI.init()]);
  await world.send({ to: 'myself' }, 0, 4);
  const self = await world.recv({ tag: 4 });
  const badDest = await failure(() => world.send(1, 1));
  const badTag = await failure(() => world.send(1, 0, -1));
  const badSource = await failure(() => world.recv({ source: 2.5 }));
  const badBytes = await failure(() => world.sendBytes('text' as unknown as Uint8Array, 0));
  const badOp = await failure(() => world.allreduce(1, 'mean' as 'sum'));
  const badReduce = await failure(() => world.allreduce('x' as unknown as number, 'sum'));
  const sum = await world.allreduce(21, 'sum');
  const processorNameIsHost = MPI.processorName === hostname();
  const pending = failure(() => world.recv({ tag: 99 }));
  const { rank, size } = world;
  await MPI.finalize();
  const late = await failure(() => world.send(1, 0));
  const lateInit = await failure(() => MPI.init());
  report(rank, {
    size,
    same: world === again && world === MPI.COMM_WORLD,
    versionStartsWith: version.split(' ')[0],
    initializedAfterFinalize: MPI.initialized,
    processorNameIsHost,
    self: [self.value, self.source, self.tag],
    sum,
    early,
    earlySend,
    badDest,
    badTag,
    badSource,
    badBytes,
    badOp,
    badReduce,
    pending: await pending,
    late,
    lateInit,
  });
});
