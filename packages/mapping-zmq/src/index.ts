import { randomBytes } from 'node:crypto';
import { OptionError, requireWorkflowSource, type InputSpec, type Mapping, type RunOptions, type RunResult, type WorkflowInput } from '@d4/core';
import { checkServerKey, readKeyFile, secondsOption, tcpEndpoint, zmqOptions } from './options.js';
import { zeromq } from './zeromq.js';

export { zmqOptions } from './options.js';

/**
 * `zmq_multi`: dispel4py's fixed distribution over ZeroMQ. The runtime plans and runs the
 * units; this package moves their frames between worker processes, on one host (ipc:// or
 * loopback tcp://) or across hosts (`--listen` on the driver, `d4 worker zmq_multi
 * --connect` on the others), each worker connected straight to its peers.
 */
export const zmqMultiMapping: Mapping = {
  name: 'zmq_multi',
  description: "fixed distribution over ZeroMQ: dispel4py's process assignment, PE instances in worker processes on this host (ipc://, loopback tcp://) and on other hosts that join (--listen, d4 worker zmq_multi --connect)",
  stateful: true,
  options: zmqOptions,
  async run(workflow: WorkflowInput, inputs: InputSpec = {}, options: RunOptions = {}): Promise<RunResult> {
    // zeromq is loaded by the driver's launch (a binary that does not load is D4_ZMQ_UNAVAILABLE
    // there): over ipc:// after the local workers are started, so that they boot meanwhile.
    const [{ runFixedJob }, { zmqBackend }] = await Promise.all([import('@d4/runtime'), import('./driver.js')]);
    return runFixedJob(zmqBackend(requireWorkflowSource(workflow, 'zmq_multi').module), workflow, inputs, options);
  },
  async worker(options: Record<string, unknown>): Promise<void> {
    const connect = options.connect;
    if (typeof connect !== 'string') throw new OptionError("d4 worker zmq_multi needs the driver's endpoint: --connect tcp://HOST:PORT (the driver prints the command)");
    const { host } = tcpEndpoint(connect, '--connect');
    zeromq();
    const { runZmqWorker } = await import('./worker.js');
    const { localAddressTowards } = await import('./address.js');
    const serverKey = typeof options.curveServerKey === 'string' ? checkServerKey(options.curveServerKey) : undefined;
    if (options.curveSecretFile !== undefined && !serverKey) throw new OptionError("--curve-secret-file on d4 worker is this worker's own key pair for an encrypted run: give --curve-server-key with the driver's public key too");
    const keys = options.curveSecretFile !== undefined ? readKeyFile(String(options.curveSecretFile)) : undefined;
    const bind = typeof options.bind === 'string' ? `tcp://${options.bind}` : `tcp://${await localAddressTowards(host)}`;
    await runZmqWorker({
      connect,
      bind,
      token: randomBytes(6).toString('hex'),
      serverKey,
      keys,
      connectTimeoutMs: secondsOption(options, 'connectTimeout', 30),
      signal: options.signal as AbortSignal | undefined,
      verbose: options.verbose === true,
    });
  },
};

/** The mappings this package provides, by name (core's loadMapping('zmq_multi') finds them here). */
export const mappings: Record<string, Mapping> = { zmq_multi: zmqMultiMapping };
