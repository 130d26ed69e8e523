/**
 * A zmq_multi worker: binds its PULL socket, says hello to the driver, waits for its job,
 * runs its units with the runtime's worker loop over the ZeroMQ transport, and leaves when
 * the driver says the run is over. The same code runs in a process the driver started and
 * in `d4 worker zmq_multi --connect …` on another host.
 */
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Pull, Push } from 'zeromq';
import { D4Error } from '@d4/core';
import { runFixedWorker, toWireError } from '@d4/runtime/worker';
import { Kind, byeMessage, controlMessage, decodePayload, type JobMessage } from './frames.js';
import { SendQueue } from './send-queue.js';
import { HEARTBEAT, curveClient, curveServer, onEvents, reconnectFor, type CurveKeyPair } from './sockets.js';
import { ZmqTransport } from './transport.js';
import { zeromq } from './zeromq.js';

export interface WorkerStart {
  /** The driver's PULL endpoint. */
  connect: string;
  /** Where this worker binds: `ipc://<dir>` (a socket file in it) or `tcp://<address>` (any port). */
  bind: string;
  token: string;
  /** The driver's CURVE public key: the run is encrypted. */
  serverKey?: string;
  /** This worker's CURVE key pair (a joiner's --curve-secret-file, or made by the driver for a local worker); else a fresh one. */
  keys?: CurveKeyPair;
  /** Give up when the driver has not answered the handshake by then. */
  connectTimeoutMs: number;
  signal?: AbortSignal;
  verbose?: boolean;
  /** Its JOB message (core's codec, base64), when the driver gave it at spawn (local workers over ipc://): none comes then. */
  job?: string;
}

export interface StopNotice {
  failed: boolean;
  message?: string;
}

export async function runZmqWorker(start: WorkerStart): Promise<void> {
  const { Pull, Push, curveKeyPair } = zeromq();
  const keys: CurveKeyPair | undefined = start.serverKey ? (start.keys ?? curveKeyPair()) : undefined;
  const pull = new Pull({ receiveHighWaterMark: 0, linger: 0, ...curveServer(keys) });
  const ownEndpoint = start.bind.startsWith('ipc://') ? `${start.bind}/${start.token}` : `${start.bind}:*`;
  try {
    await pull.bind(ownEndpoint);
  } catch (error) {
    pull.close();
    throw new D4Error('D4_ZMQ_ENDPOINT', `this worker cannot bind ${ownEndpoint} (--bind): ${(error as Error).message}`, { cause: error });
  }
  const pushToDriver = new Push({ sendHighWaterMark: 0, linger: 2000, ...reconnectFor(start.connect), ...HEARTBEAT, ...curveClient(keys, start.serverKey) });
  let failure: (error: D4Error) => void = () => {};
  const failed = new Promise<never>((_, reject) => (failure = reject));
  failed.catch(() => {});
  const toDriver = new SendQueue(pushToDriver, (error) => failure(new D4Error('D4_ZMQ_DRIVER_LOST', `cannot send to the driver at ${start.connect}: ${error.message}`)));
  let transport: ZmqTransport | undefined;
  const close = () => {
    transport?.close();
    toDriver.close();
    pull.close();
  };
  try {
    const handshake = watchDriver(pushToDriver, start, (error) => failure(error));
    pushToDriver.connect(start.connect);
    toDriver.push(controlMessage(Kind.Hello, { token: start.token, host: hostname(), pid: process.pid, endpoint: pull.lastEndpoint!, publicKey: keys?.publicKey }));
    const aborted = new Promise<never>((_, reject) => {
      if (start.signal?.aborted) reject(new D4Error('D4_ABORTED', 'the worker was interrupted'));
      start.signal?.addEventListener('abort', () => reject(new D4Error('D4_ABORTED', 'the worker was interrupted before the run ended')), { once: true });
    });
    aborted.catch(() => {});
    const stop = receive(pull, start, toDriver, keys, (t) => (transport = t), failure);
    await Promise.race([handshake, failed, aborted]);
    const notice = await Promise.race([stop, failed, aborted]);
    if (notice.failed) throw new D4Error('D4_ZMQ_RUN_FAILED', `the run failed: ${notice.message ?? 'see the driver'}`);
  } finally {
    close();
  }
}

/** Resolves once the driver's side of the handshake is done; fails on a refused handshake, a timeout, or a lost driver. */
function watchDriver(socket: Push, start: WorkerStart, fail: (error: D4Error) => void): Promise<void> {
  let connected = false;
  return new Promise<void>((resolve, reject) => {
    const refuse = (error: D4Error) => {
      reject(error);
      fail(error);
    };
    const timer = setTimeout(() => {
      if (!connected) refuse(new D4Error('D4_ZMQ_UNREACHABLE', `this worker reached no driver at ${start.connect} within ${start.connectTimeoutMs / 1000} s (--connect-timeout): is the run started, with --listen ${start.connect}, and is the address reachable from ${hostname()}?`));
    }, start.connectTimeoutMs);
    const refused = () => {
      clearTimeout(timer);
      refuse(
        new D4Error(
          'D4_ZMQ_REFUSED',
          `the driver at ${start.connect} refused this worker's CURVE handshake: ${start.serverKey ? "--curve-server-key is not the driver's public key (the driver prints it in its join command)" : 'the driver encrypts its runs: give --curve-server-key with its public key'}`,
        ),
      );
    };
    const unlisted = () => {
      clearTimeout(timer);
      refuse(
        new D4Error(
          'D4_ZMQ_REFUSED',
          `the driver at ${start.connect} refused this worker's CURVE key: its public key ${start.keys ? `${start.keys.publicKey} ` : ''}is not in the driver's --curve-clients list; ${start.keys ? 'add it there' : 'join with --curve-secret-file holding a key pair the driver lists'}`,
        ),
      );
    };
    onEvents(socket, {
      handshake: () => {
        connected = true;
        clearTimeout(timer);
        resolve();
      },
      'handshake:error:protocol': refused,
      // A ZAP refusal (the driver's --curve-clients); a wrong server key fails the handshake itself.
      'handshake:error:auth': unlisted,
      'handshake:error:other': refused,
      disconnect: () => {
        if (connected) fail(new D4Error('D4_ZMQ_DRIVER_LOST', `this worker lost the driver at ${start.connect}: it ended or its host became unreachable`));
      },
    });
  });
}

/** The receive loop: the job, then link frames, until the driver's STOP. */
async function receive(
  pull: Pull,
  start: WorkerStart,
  toDriver: SendQueue,
  keys: CurveKeyPair | undefined,
  started: (transport: ZmqTransport) => void,
  fail: (error: D4Error) => void,
): Promise<StopNotice> {
  let transport: ZmqTransport | undefined;
  // A peer that got its job first may send before this worker's job arrives (ZeroMQ queues
  // each sender apart, so the driver's message need not come first): kept until then.
  const early: Array<[Buffer, Buffer | undefined]> = [];
  const begin = (message: JobMessage) => {
    // The driver's compiled copy of a TypeScript workflow lives beside its module: on a
    // host where that file is not, the module is loaded as the user gave it.
    const job = existsSync(message.job.source.module) || !message.originalModule ? message.job : { ...message.job, source: { ...message.job.source, module: message.originalModule } };
    const own = new ZmqTransport(message.index, job.units, message.workerOf, message.peers, toDriver, keys, (error) => fail(new D4Error('D4_WORKER', `worker ${message.index} cannot send to a peer: ${error.message}`)));
    transport = own;
    started(own);
    for (const [h, p] of early.splice(0)) own.deliver(h, p);
    if (start.verbose) process.stderr.write(`d4 worker ${message.index}: running units ${job.units.join(', ')}\n`);
    runFixedWorker(job, own).catch((error: unknown) => own.report({ type: 'error', error: toWireError(error) }));
  };
  if (start.job) begin(decodePayload<JobMessage>(Buffer.from(start.job, 'base64')));
  for await (const [header, payload] of pull) {
    switch (header[0]) {
      case Kind.Job:
        begin(decodePayload<JobMessage>(payload));
        break;
      case Kind.Stop:
        await transport?.flushed();
        // The driver closes its socket once every worker has said goodbye (or after a while):
        // so the close is not taken for a lost driver.
        toDriver.push(byeMessage(start.token));
        await toDriver.flushed();
        return decodePayload<StopNotice>(payload);
      default:
        if (transport) transport.deliver(header, payload);
        else early.push([header, payload]);
    }
  }
  return { failed: true, message: 'the worker socket closed' };
}
