import type { Socket } from 'node:net';
import { decode, encode, type InputSpec, type RunResult, type WorkflowSource } from '@d4/core';
import type { WireError } from '@d4/runtime/worker';

/**
 * What the launcher (`d4 run mpi` outside mpiexec) and rank 0 say to each other over a Unix
 * socket: the launcher is not in the MPI world, so rank 0 drives the run and sends back
 * what the caller's options would have received (log lines, outputs as they come, the
 * result or the error).
 */
export type RelayMessage =
  | { type: 'job'; source: WorkflowSource; compiled: WorkflowSource; inputs: InputSpec; options: Record<string, unknown>; streamOutputs: boolean; keepProgress: boolean }
  /** process() calls so far per PE (absolute), every PROGRESS_MS while the run goes. */
  | { type: 'progress'; calls: Record<string, number> }
  | { type: 'log'; peId: string; instance: number; message: string }
  | { type: 'output'; peId: string; port: string; value: unknown }
  | { type: 'result'; result: RunResult }
  | { type: 'error'; error: WireError };

/** Where rank 0 finds the launcher's socket. */
export const RELAY_ENV = 'D4_MPI_RELAY';
/** The compiled workflow module every rank may import before its job arrives. */
export const PRELOAD_ENV = 'D4_MPI_PRELOAD';

/** Length-prefixed frames of core's codec on a stream socket. */
export class RelayChannel {
  private pending: Buffer = Buffer.alloc(0);

  constructor(
    private readonly socket: Socket,
    onMessage: (message: RelayMessage) => void,
  ) {
    socket.on('data', (chunk: Buffer) => {
      this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
      while (this.pending.length >= 4) {
        const length = this.pending.readUInt32LE(0);
        if (this.pending.length < 4 + length) break;
        const frame = this.pending.subarray(4, 4 + length);
        this.pending = this.pending.subarray(4 + length);
        onMessage(decode<RelayMessage>(frame));
      }
    });
  }

  send(message: RelayMessage): void {
    const body = encode(message);
    const head = Buffer.alloc(4);
    head.writeUInt32LE(body.length, 0);
    this.socket.write(Buffer.concat([head, body]));
  }

  /** Resolves once everything sent is written and the socket is closed. */
  end(): Promise<void> {
    return new Promise((resolve) => {
      this.socket.end(() => resolve());
      this.socket.once('error', () => resolve());
    });
  }
}

/** The options that can cross to rank 0: plain values only (no callbacks, no signal). */
export function portableOptions(options: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined || typeof value === 'function' || key === 'signal' || key === 'progress' || key === 'log' || key === 'onOutput') continue;
    out[key] = value;
  }
  return out;
}
