// Many receives pending while timers and fs work go on: the receives wait on the addon's
// progress thread, so libuv's thread pool (4 threads by default) stays free for fs, and
// the event loop keeps running timers. Rank 1 sends only after rank 0 has seen both.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { MPI } from '../../src/index.js';
import { main, report } from './report.js';

const TAGGED = 40;
const ANY = 8;

main(async () => {
  const world = await MPI.init();
  if (world.rank === 1) {
    await world.recv({ source: 0, tag: 1 });
    for (let tag = 100 + TAGGED - 1; tag >= 100; tag--) await world.send(`value ${tag}`, 0, tag);
    for (let i = 0; i < ANY; i++) await world.send(`extra ${i}`, 0, 500 + i);
    report(1, { sent: TAGGED + ANY });
  } else if (world.rank === 0) {
    const events: string[] = [];
    let settled = 0;
    const count = <T>(p: Promise<T>) => p.then((v) => ((settled += 1), v));
    const tagged = Array.from({ length: TAGGED }, (_, i) => count(world.recv({ source: 1, tag: 100 + i })));
    const any = Array.from({ length: ANY }, () => count(world.recv()));
    // Twice as many reads as libuv has threads, all at once.
    const file = fileURLToPath(import.meta.url);
    const reads = await Promise.all(Array.from({ length: 8 }, () => readFile(file, 'utf8')));
    events.push(`fs ${reads.every((text) => text.includes('progress thread'))} with ${settled} settled`);
    await new Promise((resolve) => setTimeout(resolve, 5));
    events.push(`timer with ${settled} settled`);
    await world.send('go', 1, 1);
    const values = await Promise.all(tagged);
    const extras = await Promise.all(any);
    report(0, {
      events,
      tagged: values.map((m) => [m.value, m.tag, m.source]),
      any: extras.map((m) => [m.value, m.tag]).sort(),
    });
  }
  await MPI.finalize();
});
