/**
 * One suite over every transport zmq_multi has on one host, in the manner of zeromq.js's
 * own `testProtos`: `describe.each(protocols)` runs each test over ipc:// and tcp://.
 */
export const protocols = ['ipc', 'tcp'] as const;
export type Protocol = (typeof protocols)[number];
