// Times a heartbeat thread's boot (Liveness.acquire → ready) in a fresh process: wall and CPU.
//   node scripts/heartbeat-boot.mjs DIST URL     (URL 'none': load liveness.js, start no thread)
// Load-independent: run it under `valgrind --tool=callgrind --callgrind-out-file=/dev/null`
// with a URL and with 'none'; the difference of the instruction counts is the thread's boot.
const [dist, url] = process.argv.slice(2);
const t0 = performance.now();
const c0 = process.cpuUsage();
const { Liveness } = await import(`${dist}/liveness.js`);
const live = url === 'none' ? undefined : Liveness.acquire(url);
await live?.ready;
const c = process.cpuUsage(c0);
console.log(JSON.stringify({ ms: Math.round(performance.now() - t0), cpuMs: Math.round((c.user + c.system) / 1000) }));
live?.release();
process.exit(0);
