/**
 * pipeline_test's 1 000 000 items through `simple`, in-process, against the built core of
 * any checkout, even one older than this bench (session 2's c1cf411): the PEs are written
 * here, as dispel4py's TestProducer and TestOneInOneOut. Prints wall/CPU ms per run.
 *
 *   node bench/src/simple-core.mjs <checkout> [runs]      e.g. node bench/src/simple-core.mjs /work/wt-c1 3
 *
 * Run it for two checkouts in turns: only figures from the same minutes compare.
 */
const [checkout, runs] = process.argv.slice(2);
if (!checkout) {
  console.error('usage: node bench/src/simple-core.mjs <checkout with packages/core built> [runs]');
  process.exit(2);
}
const core = await import(`${checkout}/packages/core/dist/index.js`);
const { GenericPE, WorkflowGraph } = core;

class TestProducer extends GenericPE {
  constructor() { super('TestProducer'); this.counter = 0; this.addOutput('output'); }
  preprocess() { this.counter = 0; }
  process() { this.counter += 1; const result = {}; for (const port of this.outputs.keys()) result[port] = this.counter; return result; }
}
class TestOneInOneOut extends GenericPE {
  constructor() { super('TestOneInOneOut'); this.addInput('input').addOutput('output'); }
  process(inputs) { return { output: inputs.input }; }
}
function pipeline() {
  const g = new WorkflowGraph(); let prev = new TestProducer(); g.add(prev);
  for (let i = 0; i < 5; i++) { const n = new TestOneInOneOut(); g.connect(prev, 'output', n, 'input'); prev = n; }
  return g;
}
const reps = Number(runs ?? 3);
const out = [];
// Older cores export the mapping as `simple`.
const simple = core.simpleMapping ?? core.simple;
for (let r = 0; r < reps; r++) {
  const g = pipeline();
  const c = process.cpuUsage(); const t = performance.now();
  const res = await simple.run(g, { TestProducer: 1_000_000 }, { collect: 'count' });
  const u = process.cpuUsage(c);
  out.push(`${(performance.now() - t).toFixed(0)}/${((u.user + u.system) / 1000).toFixed(0)}`);
  if (r === 0) console.log(JSON.stringify(res.counts));
}
console.log(checkout, 'wall/cpu ms:', out.join(' '));
