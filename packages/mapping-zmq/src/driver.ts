/**
 * The driver side of zmq_multi: a FixedBackend for the runtime's runFixedJob. It binds one
 * PULL socket for hellos and reports, starts the local worker processes, waits for the
 * others to join (`--listen`), hands each worker its job and the addresses of its peers,
 * and watches every worker: a local one through its exit, a joined one through its
 * connection (ZeroMQ's heartbeats), so a dead worker ends the run naming it and its host.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pull } from 'zeromq';
import { D4Error, OptionError, WorkerError, intOption, type RunOptions } from '@d4/core';
import { abortError, describeUnit, minimumWorkers, type FixedBackend, type FixedLaunch, type LaunchedWorkers, type MultiPlan, type WorkerMessage } from '@d4/runtime';
import { Kind, controlMessage, decodePayload, type Hello } from './frames.js';
import { isLoopback, memoryOption, protocolOption, readKeyFile, secondsOption, tcpEndpoint, type CurveKeyPair } from './options.js';
import { SendQueue } from './send-queue.js';
import { HEARTBEAT, curveClient, curveServer, onEvents } from './sockets.js';
import type { StopNotice } from './worker.js';
import { startLocalWorkers } from './local-workers.js';
import { joinCommand, listenWarning, refusalNotice, unlistedNotice } from './notices.js';
import { readClientKeys, startZapHandler, type ZapHandler } from './zap.js';
import { workerFile } from './worker-file.js';
import { zeromq } from './zeromq.js';


interface Joined extends Hello {
  index: number;
  commands: SendQueue;
  child?: ChildProcess;
}

/** Where the driver listens and how many workers start here. */
interface Endpoints {
  listen: string;
  /** What local workers bind: ipc://<dir> or tcp://<address>. */
  localBind: string;
  remote: boolean;
  ipcDir?: string;
}

function endpoints(options: RunOptions): Endpoints {
  const listen = options.listen as string | undefined;
  if (listen !== undefined) {
    const { host } = tcpEndpoint(String(listen), '--listen');
    return { listen: String(listen), localBind: `tcp://${host}`, remote: true };
  }
  if (protocolOption(options) === 'tcp') return { listen: 'tcp://127.0.0.1:*', localBind: 'tcp://127.0.0.1', remote: false };
  // Unix socket paths are limited to ~107 bytes: a short directory of the run's own.
  const ipcDir = mkdtempSync(join(tmpdir(), 'd4zmq-'));
  return { listen: `ipc://${ipcDir}/driver`, localBind: `ipc://${ipcDir}`, remote: false, ipcDir };
}

/** The backend of one run; `originalModule` is the workflow as the user gave it (workers on other hosts may need it). */
export const zmqBackend = (originalModule: string): FixedBackend => ({
  mapping: 'zmq_multi',
  workerNoun: 'processes',
  // Workers are processes (here or on other hosts): each reports its call counts for the progress line (the runtime's reportCalls).
  sharesMemory: false,
  workers(plan: MultiPlan, options: RunOptions): number {
    const perInstance = options.listen !== undefined && options.local !== undefined;
    const fallback = perInstance ? plan.units.length : Math.min(plan.units.length, availableParallelism());
    return Math.min(plan.units.length, Math.max(minimumWorkers(plan), intOption(options, 'processes', fallback, 1)));
  },
  heapLimitMb: memoryOption,
  launch: (launch) => launchWorkers(launch, originalModule),
});

async function launchWorkers(launch: FixedLaunch, originalModule: string): Promise<LaunchedWorkers> {
  const { jobs, plan, options } = launch;
  const total = jobs.length;
  const keys: CurveKeyPair | undefined = options.curveSecretFile ? readKeyFile(String(options.curveSecretFile)) : undefined;
  const allowList = clientAllowList(options, keys);
  const place = endpoints(options);
  const local = place.remote ? Math.min(total, intOption(options, 'local', total, 0)) : total;
  let pull: Pull | undefined;
  const joined: Joined[] = [];
  const children: ChildProcess[] = [];
  let zap: ZapHandler | undefined;
  let stopping: Promise<void> | undefined;
  let reports: ReturnType<typeof receiveReports> | undefined;
  const label = (w: number) => {
    const worker = joined.find((j) => j.index === w);
    const units = jobs[w].units.map((u) => describeUnit(plan, u)).join('; ');
    return worker ? `process ${w} on ${worker.host} (pid ${worker.pid}${worker.child ? '' : ', joined'}; ${units})` : `process ${w} (${units})`;
  };

  const stop = (notice: StopNotice = { failed: false }): Promise<void> => {
    stopping ??= (async () => {
      for (const worker of joined) worker.commands.push(controlMessage(Kind.Stop, notice as never));
      // Until every worker that got its job has said goodbye (at most 2 s; a dead one never will).
      if (reports) await Promise.race([reports.allGone(), delay(2000)]);
      for (const worker of joined) worker.commands.close();
      pull?.close();
      zap?.close();
      // A worker that said goodbye has closed its sockets and is exiting: the run does not
      // wait for that (it is still killed if it has not exited in 3 s while this process
      // lives). One that did not say goodbye is waited for, and killed after 3 s.
      const leaving = (child: ChildProcess) => joined.some((w) => w.child === child && reports?.saidBye(w.token));
      await Promise.all(children.map((child) => (leaving(child) ? void exited(child, 3000, true) : exited(child, 3000))));
      if (place.ipcDir) rmSync(place.ipcDir, { recursive: true, force: true });
    })();
    return stopping;
  };

  try {
    // Failures while workers start and join: a local process that cannot start or dies, an abort.
    let refuse: (error: D4Error) => void = () => {};
    const refused = new Promise<never>((_, reject) => (refuse = reject));
    refused.catch(() => {});
    const signal = options.signal;
    const onAbort = () => refuse(abortError(signal!));
    signal?.addEventListener('abort', onAbort, { once: true });
    const tokens = new Map<string, ChildProcess>();
    // Worker indices fixed at spawn, when the local workers got their jobs there.
    const indexOf = new Map<string, number>();
    let jobsGiven = false;
    const startLocal = (driverEndpoint: string) => {
      const workers = startLocalWorkers(launch, local, driverEndpoint, place.localBind, keys, allowList?.keys, originalModule);
      jobsGiven = workers.jobsGiven;
      for (const [index, [token, child]] of workers.started.entries()) {
        tokens.set(token, child);
        if (jobsGiven) indexOf.set(token, index);
        children.push(child);
        child.once('error', (error) => refuse(new WorkerError(`cannot start a worker process (${workerFile()}): ${error.message}`, 'D4_WORKER_SPAWN', { cause: error })));
        child.once('exit', (code, sig) => {
          if (stopping || launch.stopped()) return;
          const w = joined.find((j) => j.child === child)?.index ?? -1;
          const error = new WorkerError(
            `${w >= 0 ? label(w) : `a local worker process (pid ${child.pid}) on ${hostname()}`} ${sig ? `was killed by ${sig}` : `exited with code ${code}`} before the run finished; a PE may have called process.exit(), or the process was killed`,
            'D4_WORKER_DIED',
          );
          refuse(error);
          launch.fail(error);
        });
      }
    };
    // An ipc:// endpoint is known before the bind: the workers start first, and boot (~0.1 s
    // of CPU each) while this process loads zeromq (~25 ms) and binds; a worker that connects
    // before the bind retries (reconnectFor). A tcp port is the bind's. Should zeromq not
    // load, the error is this process's, and the workers, failing the same way, are stopped.
    if (place.ipcDir) startLocal(place.listen);
    pull = new (zeromq().Pull)({ receiveHighWaterMark: 0, linger: 0, ...curveServer(keys) });
    // Before the PULL socket accepts anyone: its CURVE handshakes ask the handler from the first.
    // Each refused key is said once: a client that keeps retrying does not flood stderr.
    const said = new Set<string>();
    if (allowList) zap = await startZapHandler(allowList.keys, (key, address) => options.quiet || said.has(key) || (said.add(key), process.stderr.write(unlistedNotice(place.listen, key, address, allowList.file))));
    try {
      await pull.bind(place.listen);
    } catch (error) {
      throw new D4Error('D4_ZMQ_ENDPOINT', `zmq_multi cannot listen on ${place.listen}: ${(error as Error).message}; give an address of this host and a free port`, { cause: error });
    }
    const driverEndpoint = pull.lastEndpoint!;
    // With an allow-list, an unlisted key is the ZAP handler's refusal, which it reports itself.
    if (!options.quiet) reportRefusals(pull, driverEndpoint, keys !== undefined, allowList !== undefined);
    if (place.remote && !keys) {
      const { host } = tcpEndpoint(place.listen, '--listen');
      if (!isLoopback(host) && !options.quiet) process.stderr.write(listenWarning(driverEndpoint));
    }
    if (!place.ipcDir) startLocal(driverEndpoint);
    if (total > local && !options.quiet) process.stderr.write(joinCommand(driverEndpoint, total - local, local, keys?.publicKey, false, allowList !== undefined));

    reports = receiveReports(pull, joined, total, tokens, indexOf, launch, keys, label, () => stopping !== undefined);
    const waitMs = secondsOption(options, 'wait', 60);
    const timeout = delay(waitMs).then(() => {
      throw new D4Error(
        'D4_ZMQ_MISSING_WORKERS',
        `zmq_multi waited ${waitMs / 1000} s (--wait) for ${total} worker processes and ${joined.length} came: ${total - joined.length} missing; start them on other hosts with: ${joinCommand(driverEndpoint, total - local, local, keys?.publicKey, true, allowList !== undefined)}`,
      );
    });
    try {
      await Promise.race([reports.allJoined, refused, timeout]);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    if (jobsGiven) {
      // Every worker is local and runs the job it was given at spawn, by its index.
      joined.sort((a, b) => a.index - b.index);
    } else {
      // Workers joined in whatever order they came (a joiner may say hello before a local
      // worker has booted); the local ones take the first indices, so the plan's first units
      // (its sources) always run on this host, and the joined ones the rest, in arrival order.
      joined.sort((a, b) => Number(a.child === undefined) - Number(b.child === undefined));
      joined.forEach((worker, index) => (worker.index = index));
      const peers = joined.map((w) => ({ endpoint: w.endpoint, publicKey: w.publicKey }));
      for (const worker of joined) {
        const job = { ...jobs[worker.index], counters: undefined };
        worker.commands.push(controlMessage(Kind.Job, { index: worker.index, job, workerOf: launch.workerOf, peers, originalModule }));
      }
    }
    // The runtime stops the workers however the run ended: it succeeded when every unit is done.
    return { label, stop: () => stop(reports?.done() === plan.units.length ? { failed: false } : { failed: true, message: 'it failed or was stopped; its driver says why' }) };
  } catch (error) {
    await stop({ failed: true, message: (error as Error).message });
    throw error;
  }
}

/** Hellos until every worker is there, then reports, until the driver closes its socket. */
function receiveReports(
  pull: Pull,
  joined: Joined[],
  total: number,
  tokens: Map<string, ChildProcess>,
  indexOf: ReadonlyMap<string, number>,
  launch: FixedLaunch,
  keys: CurveKeyPair | undefined,
  label: (w: number) => string,
  stopping: () => boolean,
): { allJoined: Promise<void>; done: () => number; allGone: () => Promise<void>; saidBye: (token: string) => boolean } {
  let done = 0;
  const gone = new Set<string>();
  let allGone: (() => void) | undefined;
  const goneOnce = new Promise<void>((resolve) => (allGone = resolve));
  let allJoined!: () => void;
  const promise = new Promise<void>((resolve) => (allJoined = resolve));
  const verbose = launch.options.verbose === true;
  void (async () => {
    try {
      for await (const [header, payload, ...more] of pull) {
        if (header[0] === Kind.Report) {
          for (const frame of [payload, ...more]) {
            const message = decodePayload<WorkerMessage>(frame);
            if (message.type === 'done') done++;
            launch.deliver(header.readUInt32LE(1), message);
          }
          continue;
        }
        if (header[0] === Kind.Bye) {
          gone.add(payload.toString());
          if (joined.every((w) => gone.has(w.token))) allGone?.();
          continue;
        }
        if (header[0] !== Kind.Hello) continue;
        const hello = decodePayload<Hello>(payload);
        const commands = new SendQueue(new (zeromq().Push)({ sendHighWaterMark: 0, linger: 1000, ...HEARTBEAT, ...curveClient(keys, hello.publicKey) }), (error) => {
          if (!stopping()) launch.fail(new WorkerError(`cannot send to worker ${hello.host} (pid ${hello.pid}): ${error.message}`, 'D4_WORKER_DIED'));
        });
        commands.socket.connect(hello.endpoint);
        if (joined.length >= total) {
          // One worker too many: it is told to leave, and the run goes on.
          commands.push(controlMessage(Kind.Stop, { failed: true, message: `the run already has its ${total} workers` } as never));
          setTimeout(() => commands.close(), 1000);
          continue;
        }
        const worker: Joined = { ...hello, index: indexOf.get(hello.token) ?? joined.length, commands, child: tokens.get(hello.token) };
        joined.push(worker);
        if (verbose) process.stderr.write(`d4 zmq_multi: ${label(worker.index)} joined (${joined.length}/${total})\n`);
        if (!worker.child) {
          // A joined worker is watched through its connection: ZeroMQ's heartbeats close it
          // when the process dies or its host goes away.
          onEvents(commands.socket, {
            disconnect: () => {
              if (!stopping() && !launch.stopped()) launch.fail(new WorkerError(`${label(worker.index)} disconnected before the run finished: it died, or ${worker.host} became unreachable`, 'D4_WORKER_DIED'));
            },
          });
        }
        if (joined.length === total) allJoined();
      }
    } catch (error) {
      if (!stopping()) launch.fail(new WorkerError(`zmq_multi's driver socket failed: ${(error as Error).message}`, 'D4_WORKER'));
    }
  })();
  return {
    allJoined: promise,
    done: () => done,
    allGone: () => (joined.every((w) => gone.has(w.token)) ? Promise.resolve() : goneOnce),
    saidBye: (token) => gone.has(token),
  };
}

/**
 * A worker whose handshake fails (no keys, or not the driver's public key) is refused by
 * ZeroMQ itself; the driver says so once, since the worker retries.
 */
function reportRefusals(pull: Pull, endpoint: string, encrypted: boolean, allowList: boolean): void {
  let said = false;
  const refused = (event: { error?: Error }) => {
    if (said) return;
    said = true;
    process.stderr.write(refusalNotice(endpoint, encrypted, event.error?.message ?? 'handshake failed'));
  };
  onEvents(pull, { 'handshake:error:protocol': refused, ...(allowList ? {} : { 'handshake:error:auth': refused }), 'handshake:error:other': refused });
}

/** `--curve-clients`: the public keys that may join (local workers' are added as they start). */
function clientAllowList(options: RunOptions, keys: CurveKeyPair | undefined): { file: string; keys: Set<string> } | undefined {
  if (options.curveClients === undefined) return undefined;
  const file = String(options.curveClients);
  if (!keys) throw new OptionError(`--curve-clients ${file} lists the workers that may join an encrypted run: give --curve-secret-file with the driver's key pair too`);
  return { file, keys: new Set(readClientKeys(file)) };
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/** Waits for a child to exit; SIGKILL after `ms` (a timer that does not keep this process alive when `unref`). */
function exited(child: ChildProcess, ms: number, unref = false): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    if (unref) timer.unref();
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
