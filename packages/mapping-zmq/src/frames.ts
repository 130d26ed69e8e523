/**
 * What crosses the ZeroMQ sockets of a zmq_multi run. Every message is multipart: a small
 * header frame (a kind byte, then for link frames the two units) and, where there is one, a
 * payload frame (a batch's bytes as the runtime encoded them, or core's codec for control).
 * Each worker binds one PULL socket: the driver's commands and every peer's link frames
 * arrive on it; the driver binds one PULL socket for hellos and reports.
 */
import { decode, encode } from '@d4/core';
import { ACK, END_OF_STREAM, type FixedWorkerJob, type LinkFrame, type WorkerMessage } from '@d4/runtime/worker';

export const enum Kind {
  Batch = 1,
  EndOfStream = 2,
  Ack = 3,
  /** worker → driver: a worker is up (payload: Hello). */
  Hello = 10,
  /** worker → driver: WorkerMessages of worker `index` (header bytes 1..4), one payload frame each. */
  Report = 11,
  /** worker → driver: STOP received, leaving (payload: its hello's token). */
  Bye = 12,
  /** driver → worker: what to run (payload: JobMessage). */
  Job = 20,
  /** driver → worker: the run is over (or failed): leave. */
  Stop = 21,
}

export interface Hello {
  /** Chosen by the worker: matches its JOB to it (and tells local workers apart). */
  token: string;
  host: string;
  pid: number;
  /** Where its PULL socket is bound (peers and the driver connect there). */
  endpoint: string;
  /** Its CURVE public key when the run is encrypted: peers use it as the server key of its PULL. */
  publicKey?: string;
}

export interface PeerAddress {
  endpoint: string;
  publicKey?: string;
}

export interface JobMessage {
  index: number;
  job: FixedWorkerJob;
  /** The module as the user gave it, for a worker on a host where the driver's compiled copy is not. */
  originalModule: string;
  workerOf: number[];
  peers: PeerAddress[];
  /** With --progress: send process() counts every this many ms. */
  progressMs?: number;
}

export type Message = Buffer[];

export function linkMessage(from: number, to: number, frame: LinkFrame): Message {
  const header = Buffer.allocUnsafe(9);
  header.writeUInt32LE(from, 1);
  header.writeUInt32LE(to, 5);
  if (frame === ACK) header[0] = Kind.Ack;
  else if (frame === END_OF_STREAM) header[0] = Kind.EndOfStream;
  else if (frame instanceof Uint8Array) {
    header[0] = Kind.Batch;
    return [header, Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength)];
  } else throw new Error(`zmq_multi: a batch must cross processes as bytes (got ${typeof frame}): a bug in the runtime`);
  return [header];
}

export function linkFrameOf(header: Buffer, payload: Buffer | undefined): LinkFrame {
  switch (header[0]) {
    case Kind.Ack:
      return ACK;
    case Kind.EndOfStream:
      return END_OF_STREAM;
    default:
      return payload!;
  }
}

export const linkKey = (header: Buffer): string => `${header.readUInt32LE(1)}>${header.readUInt32LE(5)}`;

export function controlMessage(kind: Kind.Hello | Kind.Job | Kind.Stop, payload?: Hello | JobMessage): Message {
  return payload === undefined ? [Buffer.of(kind)] : [Buffer.of(kind), encode(payload)];
}

/** One report's payload frame; the reports made in one turn of a worker's loop go as one message. */
export const reportPayload = (message: WorkerMessage): Buffer => encode(message);

export function reportMessage(index: number, payloads: readonly Buffer[]): Message {
  const header = Buffer.allocUnsafe(5);
  header[0] = Kind.Report;
  header.writeUInt32LE(index, 1);
  return [header, ...payloads];
}

export const byeMessage = (token: string): Message => [Buffer.of(Kind.Bye), Buffer.from(token)];

export const decodePayload = <T>(payload: Buffer): T => decode<T>(payload);
