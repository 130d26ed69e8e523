import { parentPort, type MessagePort } from 'node:worker_threads';
import type { FixedTransport, PoolCommand, PoolReply, PoolTransport, WorkerMessage } from '@d4/runtime/worker';

/** A message to the driver thread (structured clone: bytes are copied, never transferred). */
export function post(message: WorkerMessage | PoolReply): void {
  parentPort!.postMessage(message);
}

/**
 * The worker-thread transport of a fixed plan: each link between units in different
 * threads is a MessagePort the driver made and handed to both threads (frames arrive in
 * order on a port); reports go to the driver over the thread's parent port.
 */
export function threadTransport(ports: Record<string, MessagePort>): FixedTransport {
  return {
    link(from, to) {
      const port = ports[`${from}>${to}`];
      return { send: (frame) => port.postMessage(frame), onFrame: (listener) => port.on('message', listener) };
    },
    report: post,
  };
}

/** The worker-thread transport of a shared pool: the driver's commands over the parent port. */
export function poolThreadTransport(): PoolTransport {
  return {
    onCommand: (listener) => parentPort!.on('message', (command: PoolCommand) => listener(command)),
    report: post,
  };
}
