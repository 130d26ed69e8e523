// Seed 003, "streaming data processing pipeline": data arrives on a socket (a local TCP
// server this example starts, standing in for an instrument), goes through a first phase
// on one pool and a second phase on another pool with more workers, and the phases
// overlap: the second starts on the first results while the first still reads the socket
// (Dragon's producers.imap(…, 4) fed into consumers.imap(…, 2)).
// Run: npx tsx examples/dragon/stream_pipeline.ts [records]   → "product <i>=<value>" lines, then a total
import { once } from 'node:events';
import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net';
import { Executor } from '@d4/executor';

const records = Number(process.argv[2] ?? 40);

/** The data source: sends `records` lines "reading <i> <value>" to whoever connects, then closes. */
const server = createServer((socket) => {
  for (let i = 0; i < records; i++) socket.write(`reading ${i} ${(i * 7) % 13}\n`);
  socket.end();
});
server.listen(0, '127.0.0.1');
await once(server, 'listening');

/** Dragon's StreamDataReader: yields whole records as they come off the socket, until it closes. */
async function* streamDataReader(socket: Socket): AsyncGenerator<string> {
  let partial = '';
  for await (const chunk of socket) {
    const lines = (partial + String(chunk)).split('\n');
    partial = lines.pop() ?? '';
    yield* lines;
  }
  if (partial) yield partial;
}

// Phase 1: parse a record and scale it. Phase 2: post-process the result.
const generateData = (record: string): { i: number; value: number } => {
  const [, i, value] = record.split(' ');
  return { i: Number(i), value: Number(value) * 10 };
};
const processData = (item: { i: number; value: number }): { i: number; value: number } => ({ i: item.i, value: item.value + 1 });

const socket = createConnection((server.address() as AddressInfo).port, '127.0.0.1');
await using producers = new Executor({ maxWorkers: 1, blockAllocation: true });
await using consumers = new Executor({ maxWorkers: 2, blockAllocation: true });
const generated = producers.map(generateData, streamDataReader(socket), { chunksize: 4 });
let total = 0;
let count = 0;
for await (const item of consumers.map(processData, generated, { chunksize: 2 })) {
  console.log(`product ${item.i}=${item.value}`);
  total += item.value;
  count++;
}
console.log(`products: ${count}, total: ${total}`);
server.close();
