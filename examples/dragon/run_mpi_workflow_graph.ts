// Runs the seed-004 stream graph (mpi_workflow_graph.ts) on simple and on multi, and prints
// per mapping what reached the consumer: the message sizes of each producer's records.
// Run: npx tsx examples/dragon/run_mpi_workflow_graph.ts   → one line per mapping and producer
import { loadWorkflow, simpleMapping, type Mapping } from '@d4/core';
import { mappings } from '@d4/mapping-multi';
import type { Record } from './mpi_workflow_graph.js';

const module = new URL('./mpi_workflow_graph.ts', import.meta.url).pathname;
const runs: [string, Mapping, object][] = [
  ['simple', simpleMapping, {}],
  ['multi', mappings.multi, { numProcesses: 5 }],
];
for (const [name, mapping, options] of runs) {
  const logs: string[] = [];
  const result = await mapping.run(await loadWorkflow(module), { Jobs: 1 }, { ...options, log: (peId: string, _instance: number, message: string) => logs.push(`${peId}: ${message}`) });
  const records = Object.values(result.outputs).flatMap((ports) => (ports.output ?? []) as Record[]);
  const byProducer = new Map<number, number[]>();
  for (const record of records) byProducer.set(record.producer, [...(byProducer.get(record.producer) ?? []), record.size]);
  const logged = logs.filter((line) => line.includes('consumer: ')).length;
  console.log(`${name}: ${byProducer.size} producers, ${records.length} records, ${logged} logged by the consumer`);
  for (const [producer, sizes] of [...byProducer].sort((a, b) => a[0] - b[0])) console.log(`${name}: producer ${producer}: ${sizes.join(',')}`);
}
