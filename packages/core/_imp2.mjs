import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
if (isMainThread) {
  for (const m of [process.argv[2]]) {
    const t0 = performance.now();
    const w = new Worker(new URL(import.meta.url), { workerData: m });
    w.on('message', (r) => { console.log(m, 'ready', (performance.now() - t0).toFixed(1), 'import', r); w.terminate(); });
  }
} else {
  const s = performance.now(); await import(workerData); parentPort.postMessage(+(performance.now() - s).toFixed(1));
}
