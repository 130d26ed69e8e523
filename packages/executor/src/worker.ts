/**
 * The worker's main module, for both backends: a worker thread (parentPort) and a child
 * process (process.send). It receives batches of tasks, runs them one after another in
 * arrival order, and sends results back in batches.
 */
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { connect } from 'node:net';
import { frame, FrameReader } from './launch/frames.js';
import { performance } from 'node:perf_hooks';
import { encode, decode } from '@d4/core';
import { M_INIT, M_TASKS, W_RESULTS, W_STARTED, W_INIT_FAILED, F_CHUNK, F_TIMED, F_FORWARDED, F_DROP, F_ONE, KEEP_SHIFT, R_OK, R_FAILED, R_SKIPPED, TASK_FIELDS, RESULT_FIELDS, type ErrorInfo, type FnSpec } from './protocol.js';
import { KeptResults } from './kept-results.js';
import { postBytes, workerSignals } from './thread-signals.js';
import { rebuildFunction, scopeViolation, clearScopeViolation, ExecutorSideError } from './rebuild.js';

type Fn = (...args: unknown[]) => unknown;

/** Started by srun or mpiexec: the executor's address, its token, and which worker this rank belongs to. */
const connectTo = process.env.D4_EXECUTOR_CONNECT;
const socket = !parentPort && connectTo ? openSocket(connectTo) : undefined;

const send: (bytes: Uint8Array) => void = parentPort
  ? (bytes) => postBytes(parentPort!, bytes)
  : socket
    ? (bytes) => {
        socket.write(frame(bytes));
      }
    : (bytes) => {
        process.send!(bytes);
      };

function openSocket(address: string) {
  const at = address.lastIndexOf(':');
  const s = connect({ host: address.slice(0, at), port: Number(address.slice(at + 1)) });
  s.setNoDelay(true);
  const rank = Number(process.env[process.env.D4_EXECUTOR_RANK_VAR ?? ''] ?? 0);
  const size = launchedRanks() ?? 1;
  s.write(frame(encode([process.env.D4_EXECUTOR_TOKEN ?? '', process.env.D4_EXECUTOR_KEY ?? '', rank, size])));
  return s;
}

const functions = new Map<number, Fn | Promise<Fn>>();
/** Tasks to run, flat as they came: TASK_FIELDS entries each (see protocol.ts). */
let queue: unknown[] = [];
let queueHead = 0;
let draining = false;
let initReady: Promise<void> | undefined;
let initData: Record<string, unknown> | undefined;
/** Results to send, flat: RESULT_FIELDS entries each. */
let results: unknown[] = [];
let execMs = 0;
const MAX_RESULTS_PER_MESSAGE = 1024;
/** Results kept for forwarded tasks queued behind their upstream here. */
const kept = new KeptResults();
/** Tasks taken off the queue so far (placeholders too): the executor numbers them the same way, to fence one off. */
let taken = 0;

/**
 * A worker thread shares a buffer with its executor: it marks there the task it runs, and
 * waits there for its next tasks instead of on its event loop when nothing else is pending in
 * it (see thread-signals.ts). Elsewhere these do nothing.
 */
const signals = workerSignals(parentPort, workerData as unknown, (raw) => accept(raw));

function onMessage(raw: Uint8Array): void {
  accept(raw);
  if (!draining) void drain();
}

/** Takes in one message from the executor (tasks are queued, not run). */
function accept(raw: Uint8Array): void {
  const message = decode<unknown[]>(raw);
  if (message[0] === M_TASKS) {
    for (const [key, spec] of message[1] as [number, FnSpec][]) {
      const pending = rebuildFunction(spec);
      pending.catch(() => undefined); // reported per task
      functions.set(key, pending);
      pending.then((fn) => functions.set(key, fn), () => undefined);
    }
    const tasks = message[2] as unknown[];
    if (queueHead === queue.length) {
      queue = tasks;
      queueHead = 0;
    } else {
      for (let i = 0; i < tasks.length; i++) queue.push(tasks[i]);
    }
  } else if (message[0] === M_INIT) {
    const spec = message[2] as FnSpec | null;
    if (spec) initReady = runInit(spec);
  }
}

async function runInit(spec: FnSpec): Promise<void> {
  try {
    if (mpi) await mpi; // init may use MPI.COMM_WORLD too
    const init = await rebuildFunction(spec);
    const data = await init();
    if (data !== undefined && (typeof data !== 'object' || data === null || Array.isArray(data))) {
      throw new Error(`init returned ${Array.isArray(data) ? 'an array' : typeof data}; it must return an object whose keys name the values handed to tasks`);
    }
    initData = data as Record<string, unknown> | undefined;
  } catch (error) {
    await failInit(errorInfo(error));
  }
}

async function failInit(info: ErrorInfo): Promise<never> {
  send(encode([W_INIT_FAILED, info]));
  // Let the message leave before the worker ends.
  setTimeout(() => process.exit(1), 50);
  return new Promise<never>(() => undefined);
}

/**
 * A rank of an MPI-parallel worker initialises MPI before init and the first task, so a task
 * may use MPI.COMM_WORLD at once (MPI.init() stays idempotent in the task).
 */
interface MpiModule {
  init(): Promise<unknown>;
  finalize(): Promise<void>;
  COMM_WORLD: { size: number };
}
const mpi: Promise<MpiModule | undefined> | undefined = process.env.D4_EXECUTOR_MPI === '1' ? initMpi() : undefined;

async function initMpi(): Promise<MpiModule | undefined> {
  let loaded: { MPI: MpiModule; mpiBuild(): { impl?: string } };
  try {
    const mpiModule = '@d4/mpi'; // a variable: the package is optional, and only MPI workers load it
    loaded = (await import(mpiModule)) as typeof loaded;
    await loaded.MPI.init();
  } catch (error) {
    const info = errorInfo(error);
    return failInit({ ...info, startup: true, message: `MPI could not be initialised in this rank (install @d4/mpi next to @d4/executor for MPI-parallel workers): ${info.message}` });
  }
  // A rank whose MPI cannot reach its launcher's job starts as a world of its own (an addon
  // built against MPICH under Open MPI's mpiexec or srun --mpi=pmix: seen here), and every
  // rank would then answer as rank 0 of 1. Refuse that instead of returning wrong results.
  const launched = launchedRanks();
  const { size } = loaded.MPI.COMM_WORLD;
  if (launched !== undefined && size !== launched) {
    const impl = loaded.mpiBuild().impl;
    const hint = impl === 'mpich' ? "@d4/mpi is built against MPICH, whose ranks cannot join a job of Open MPI's mpiexec or of srun --mpi=pmix (the executor starts them with mpiexec.mpich, or srun --mpi=pmi2: check slurmArgs and the mpiexec on PATH), or rebuild @d4/mpi against Open MPI (D4_MPI=openmpi)" : `check that the launcher's MPI is the one @d4/mpi is built against (${impl ?? 'unknown'}): Open MPI's mpiexec, srun --mpi=pmix (check slurmArgs)`;
    return failInit({ name: 'D4Error', code: 'D4_MPI_SIZE', d4: true, startup: true, message: `this worker was started as ${launched} MPI ranks, but MPI's world in its rank has ${size}: ${hint}` });
  }
  return loaded.MPI;
}

/**
 * How many ranks the launcher started this worker as, if it says: Open MPI's mpiexec, a PMI
 * launcher (Hydra), srun (which sets SLURM_NTASKS for its step; it comes last, since inside
 * an allocation it is the allocation's when mpiexec starts the ranks).
 */
function launchedRanks(): number | undefined {
  const given = process.env.OMPI_COMM_WORLD_SIZE ?? process.env.PMI_SIZE ?? process.env.SLURM_NTASKS;
  return given === undefined ? undefined : Number(given);
}

async function drain(): Promise<void> {
  draining = true;
  try {
    if (mpi) await mpi;
    if (initReady) await initReady;
    for (;;) {
      if (queueHead === queue.length) {
        flush();
        // Wait for the next tasks without going back to the event loop, when that is safe.
        if (!signals.waitForTasks()) break;
        continue;
      }
      const id = queue[queueHead] as number;
      const key = queue[queueHead + 1] as number;
      let args = queue[queueHead + 2] as unknown[];
      const flags = queue[queueHead + 3] as number;
      const seq = taken++;
      queueHead += TASK_FIELDS;
      if (queueHead > 4096 && queueHead * 2 > queue.length) {
        queue = queue.slice(queueHead);
        queueHead = 0;
      }
      if (flags & (F_FORWARDED | F_DROP)) {
        if (flags & F_DROP) {
          if (flags & F_FORWARDED) kept.release(args);
          continue;
        }
        // Its upstream's result is here: run it from that, unless the executor fenced it off (a cancel).
        if (!signals.mayStart(seq)) {
          kept.release(args);
          results.push(id, R_SKIPPED, null);
          continue;
        }
        // A process worker sends its upstream's answer before this task starts: it cannot tell the executor
        // which task it runs, so if this one kills it, the first task it held is blamed, and that must be
        // this one, not its upstream. A thread marks the task it runs in shared memory (exact blame), so its
        // results stay batched; a crash resends the tasks of the batch whose answers had not left, as for
        // any batch (a message per hop would put the executor's thread back on a chain's path).
        if (!parentPort) flush();
        if (!kept.fill(args)) {
          results.push(id, R_SKIPPED, null);
          continue;
        }
        args = args[0] as unknown[];
      }
      if (flags & F_TIMED) {
        flush();
        send(encode([W_STARTED, id]));
      }
      const started = performance.now();
      signals.running(id);
      clearScopeViolation();
      try {
        let fn = functions.get(key);
        if (fn === undefined) throw new ExecutorSideError('D4_PROTOCOL', `worker got task #${id} for unknown function ${key}`);
        if (fn instanceof Promise) fn = await fn;
        let value: unknown;
        if (flags & F_CHUNK) {
          const out: unknown[] = [];
          for (const itemArgs of args as unknown[][]) {
            let r = call(fn, itemArgs);
            if (isThenable(r)) {
              flush();
              r = await r;
            }
            out.push(r);
          }
          value = out;
        } else {
          value = flags & F_ONE ? callOne(fn, args) : call(fn, args);
          if (isThenable(value)) {
            flush();
            value = await value;
          }
        }
        if (scopeViolation) throw scopeViolation;
        results.push(id, R_OK, value);
        if (flags >>> KEEP_SHIFT) kept.keep(id, value, flags >>> KEEP_SHIFT);
      } catch (error) {
        results.push(id, R_FAILED, errorInfo(scopeViolation ?? error));
      }
      signals.running(0);
      execMs += performance.now() - started;
      if (results.length >= MAX_RESULTS_PER_MESSAGE * RESULT_FIELDS) flush();
    }
  } finally {
    draining = false;
    flush();
  }
}

/** With `init`, the function's last declared parameter receives the init values merged under the ones given. */
function call(fn: Fn, args: unknown[]): unknown {
  if (initData !== undefined && fn.length > 0) {
    const at = fn.length - 1;
    const given = args[at];
    if (given === undefined || isPlainObject(given)) {
      const merged = args.slice();
      merged[at] = given === undefined ? { ...initData } : { ...initData, ...(given as object) };
      return fn(...merged);
    }
  }
  return fn(...args);
}

/** A call with one argument (F_ONE: `arg` is that argument, not a list). */
function callOne(fn: Fn, arg: unknown): unknown {
  return initData === undefined ? fn(arg) : call(fn, [arg]);
}

function flush(): void {
  if (results.length === 0) return;
  const batch = results;
  const ms = execMs;
  results = [];
  execMs = 0;
  let bytes: Uint8Array;
  try {
    bytes = encode([W_RESULTS, batch, ms]);
  } catch {
    // Find the results the codec cannot carry and fail those tasks instead.
    for (let at = 0; at < batch.length; at += RESULT_FIELDS) {
      try {
        encode(batch[at + 2]);
      } catch (error) {
        batch[at + 1] = R_FAILED;
        batch[at + 2] = {
          name: 'CodecError',
          code: 'D4_CODEC',
          d4: true,
          message: `task #${batch[at] as number} returned a value that cannot cross to the caller: ${(error as Error).message}`,
        } satisfies ErrorInfo;
      }
    }
    bytes = encode([W_RESULTS, batch, ms]);
  }
  send(bytes);
}

function errorInfo(error: unknown): ErrorInfo {
  if (error instanceof ExecutorSideError) return { name: 'TaskFunctionError', message: error.message, code: error.code, d4: true };
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { name: error.name, message: error.message, stack: error.stack, ...(typeof code === 'string' ? { code } : {}) };
  }
  return { name: 'Error', message: `a non-Error value was thrown: ${safeString(error)}` };
}

function safeString(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as { then?: unknown }).then === 'function';
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

if (parentPort) {
  parentPort.on('message', onMessage);
} else if (socket) {
  const reader = new FrameReader(onMessage);
  socket.on('data', (chunk) => reader.push(chunk));
  // The executor went away or stopped this worker: nothing more will come. An MPI rank
  // finalises first (every rank hears the close at once), so the launcher sees a clean end.
  socket.on('close', () => {
    if (!mpi) process.exit(0);
    setTimeout(() => process.exit(0), 2000).unref();
    void mpi.then((m) => m?.finalize()).finally(() => process.exit(0));
  });
  socket.on('error', (error) => {
    console.error(`@d4/executor worker: lost the connection to the executor at ${connectTo}: ${error.message}`);
    process.exit(1);
  });
} else if (process.send) {
  process.on('message', (m) => onMessage(m as Uint8Array));
  // The executor went away: nothing more will come.
  process.on('disconnect', () => process.exit(0));
} else {
  console.error('@d4/executor worker: start me through an Executor (no parent port or IPC channel)');
  process.exit(2);
}
