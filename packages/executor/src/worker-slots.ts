import { encode, CodecError } from '@d4/core';
import type { WorkerBackend, WorkerExit, WorkerHandle } from './backend.js';
import { M_INIT, M_TASKS, F_CHUNK, F_TIMED, F_FORWARDED, F_DROP, F_ONE, KEEP_SHIFT, TASK_FIELDS, type FnSpec } from './protocol.js';
import { chooseBackend, describeLaunch, GpuPool, type WorkerResources } from './resources.js';
import type { ExecutorOptions, Settings } from './options.js';
import { launchedBackend } from './launch/launched-backend.js';
import { defaultListenHost, mpiexecLauncher, srunLauncher } from './launch/slurm.js';
import type { Task } from './task.js';
import { InFlight } from './scheduling/in-flight.js';

/** A started worker, as the executor sees it. */
export interface Slot {
  id: number;
  handle: WorkerHandle;
  backend: WorkerBackend;
  /** Tasks sent and not answered, in the order the worker runs them. */
  readonly inflight: InFlight<Task>;
  /** Measured execution time per task (ms), to decide how many tasks to queue in the worker. */
  avgMs: number | undefined;
  /** Functions this worker was sent already (by key), so each crosses once. */
  sentKeys: Set<number>;
  cores: number;
  gpus: string[];
  stopped: boolean;
  referenced: boolean;
  /** Block allocation: index in the worker table; -1 for a fresh worker. */
  index: number;
  /** Tasks written to it so far (placeholders too): a task's number in its run order. */
  sent: number;
  /** A forwarded task was fenced off in it (a cancel): it gets no more forwarded tasks. */
  fenced: boolean;
}

export interface SlotEvents {
  message(slot: Slot, bytes: Uint8Array): void;
  exit(slot: Slot, info: WorkerExit): void;
}

const MAX_TASKS_PER_MESSAGE = 1024;

/**
 * The workers of one executor: the fixed table of block allocation, or one fresh worker per
 * running task, with the cores and GPUs they hold. Starts them (from a launch description),
 * retires and stops them, and writes tasks to them.
 */
export class WorkerSlots {
  /** Block allocation: the fixed table of workers (undefined = not started yet, or being replaced). */
  readonly table: (Slot | undefined)[];
  /** Without block allocation: one worker per running task. */
  readonly fresh = new Set<Slot>();
  usedCores = 0;
  readonly gpus: GpuPool;
  readonly #settings: Settings;
  readonly #backend: ExecutorOptions<unknown>['backend'];
  readonly #env: Record<string, string> | undefined;
  readonly #initSpec: FnSpec | null;
  readonly #events: SlotEvents;
  /** srun or mpiexec workers, when the settings say so. */
  readonly #launched: WorkerBackend | undefined;
  #nextId = 1;

  constructor(settings: Settings, options: ExecutorOptions<unknown>, initSpec: FnSpec | null, events: SlotEvents) {
    this.#settings = settings;
    this.#backend = options.backend;
    this.#env = options.env;
    this.#initSpec = initSpec;
    this.#events = events;
    this.gpus = new GpuPool(settings.gpus);
    this.table = new Array(settings.blockAllocation ? settings.maxWorkers : 0).fill(undefined);
    if (settings.launcher !== 'local') {
      const launcher = settings.launcher === 'slurm' ? srunLauncher(options.slurmArgs ?? []) : mpiexecLauncher(options.oversubscribe ?? false);
      // Every rank of a launched worker runs the task; with more than one, MPI joins them.
      this.#launched = launchedBackend(launcher, { host: options.listenHost ?? defaultListenHost(), ranks: (spec) => spec.cores, mpi: options.backend === 'mpi' || settings.launcher === 'mpi' });
    }
  }

  /** GPUs for a worker: ids from the pool, or only a count when the launcher hands them out. */
  #gpusFor(count: number): { gpus: string[]; gpuCount: number } {
    return this.#settings.launcher === 'slurm' ? { gpus: [], gpuCount: count } : { gpus: this.gpus.take(count), gpuCount: count };
  }

  /** Block allocation: starts every worker of the table that is not running. */
  fillTable(): (Slot | undefined)[] {
    const s = this.#settings;
    for (let i = 0; i < this.table.length; i++) {
      if (!this.table[i]) this.table[i] = this.#start({ cores: s.coresPerWorker, threadsPerCore: s.threadsPerCore, cwd: s.cwd, ...this.#gpusFor(s.gpusPerWorker) }, i);
    }
    return this.table;
  }

  /** Fresh dispatch: a worker sized to this task, holding its cores and GPUs until it retires. */
  startFresh(task: Task): Slot {
    this.usedCores += task.cores;
    const slot = this.#start({ cores: task.cores, threadsPerCore: task.threadsPerCore, cwd: task.cwd, ...this.#gpusFor(task.gpus) }, -1);
    this.fresh.add(slot);
    return slot;
  }

  /** Stops a fresh worker and frees its cores and GPUs; false if it was retired already. */
  retireFresh(slot: Slot): boolean {
    if (!this.fresh.delete(slot)) return false;
    this.stop(slot);
    this.usedCores -= slot.cores;
    this.gpus.give(slot.gpus);
    return true;
  }

  /** Takes a worker out of service (stopped, its place free for a new one). */
  detach(slot: Slot): void {
    if (slot.index >= 0) {
      if (this.table[slot.index] === slot) {
        this.table[slot.index] = undefined;
        this.gpus.give(slot.gpus);
      }
    } else {
      this.retireFresh(slot);
    }
    this.stop(slot);
  }

  stop(slot: Slot): void {
    if (slot.stopped) return;
    slot.stopped = true;
    slot.handle.stop();
  }

  all(): Slot[] {
    const slots: Slot[] = [];
    for (const slot of this.table) if (slot) slots.push(slot);
    for (const slot of this.fresh) slots.push(slot);
    return slots;
  }

  /**
   * Marks the task as sent to this worker; a worker with work keeps the caller's process alive.
   * A forwarded task's future stays pending until its arguments' futures are done (it cannot start before).
   */
  assign(task: Task, slot: Slot, forwarded = false): void {
    task.phase = forwarded ? 'forwarded' : 'running';
    task.slot = slot;
    task.attempts++;
    if (!forwarded) task.future._setRunning();
    slot.inflight.push(task);
    if (!slot.referenced) {
      slot.referenced = true;
      slot.handle.ref();
    }
  }

  /** A worker without work no longer keeps the caller's process alive. */
  release(slot: Slot): void {
    if (slot.inflight.length === 0 && slot.referenced) {
      slot.referenced = false;
      slot.handle.unref();
    }
  }

  /**
   * Writes tasks to a worker in batches, with the functions it has not seen. A task whose
   * arguments the codec cannot carry goes to `unsendable` instead.
   */
  send(slot: Slot, tasks: Task[], unsendable: (task: Task, error: Error) => void): void {
    for (let start = 0; start < tasks.length; start += MAX_TASKS_PER_MESSAGE) {
      const end = Math.min(tasks.length, start + MAX_TASKS_PER_MESSAGE);
      const defs: [number, FnSpec][] = [];
      const wire: unknown[] = new Array((end - start) * TASK_FIELDS);
      let at = 0;
      let lastKey = -1;
      for (let i = start; i < end; i++) {
        const t = tasks[i];
        const key = t.fn.key;
        if (key !== lastKey && !slot.sentKeys.has(key)) {
          slot.sentKeys.add(key);
          defs.push([key, t.fn.spec]);
        }
        lastKey = key;
        let flags = (t.chunk ? F_CHUNK : t.single ? F_ONE : 0) | (t.timeout !== undefined ? F_TIMED : 0);
        let args: unknown = t.wireArgs;
        const link = t.link;
        if (link) {
          // Forwarding (scheduling/forwarding.ts): its args with refs to results kept in the worker, and how many reads of its own result will come.
          if (t.phase === 'forwarded' && link.wire) {
            args = link.wire;
            flags = (flags & ~F_ONE) | F_FORWARDED;
          }
          flags |= link.keep << KEEP_SHIFT;
          link.seq = slot.sent + (i - start);
          link.keep = 0;
          link.wire = undefined;
        }
        wire[at++] = t.future.id;
        wire[at++] = key;
        wire[at++] = args;
        wire[at++] = flags;
      }
      slot.sent += end - start;
      let bytes: Uint8Array;
      try {
        bytes = encode([M_TASKS, defs, wire]);
      } catch {
        bytes = encodeWithoutBadArguments(tasks.slice(start, end), defs, wire, unsendable);
      }
      slot.handle.send(bytes);
    }
  }

  #start(resources: WorkerResources, index: number): Slot {
    const backend = chooseBackend(this.#backend, resources, this.#settings, this.#launched);
    const id = this.#nextId++;
    const launch = describeLaunch(id, resources, this.#settings, this.#env);
    const slot: Slot = {
      id,
      backend,
      handle: undefined as unknown as WorkerHandle,
      inflight: new InFlight(),
      avgMs: undefined,
      sentKeys: new Set(),
      cores: resources.cores,
      gpus: resources.gpus,
      stopped: false,
      referenced: false,
      index,
      sent: 0,
      fenced: false,
    };
    slot.handle = backend.start(launch, {
      message: (bytes) => this.#events.message(slot, bytes),
      exit: (info) => this.#events.exit(slot, info),
    });
    slot.handle.unref();
    slot.handle.send(encode([M_INIT, id, this.#initSpec]));
    return slot;
  }
}

/**
 * Hands the tasks whose arguments the codec cannot carry to `unsendable`, and encodes the rest.
 * Each of those leaves a placeholder (F_DROP), so that the worker numbers its tasks as the
 * executor does, and releases the kept results a forwarded one would have read.
 */
function encodeWithoutBadArguments(part: Task[], defs: [number, FnSpec][], wire: unknown[], unsendable: (task: Task, error: Error) => void): Uint8Array {
  for (let i = 0; i < part.length; i++) {
    const at = i * TASK_FIELDS;
    try {
      encode(wire[at + 2]);
    } catch (error) {
      const task = part[i];
      const flags = wire[at + 3] as number;
      if (flags & F_FORWARDED) (wire[at + 2] = (wire[at + 2] as unknown[]).slice())[0] = null; // the refs stay, to be released
      else wire[at + 2] = null;
      wire[at + 3] = flags | F_DROP;
      unsendable(task, new CodecError(`the arguments of task #${task.future.id} (${task.fn.label}) cannot be sent to a worker: ${(error as Error).message}`, { cause: error }));
    }
  }
  return encode([M_TASKS, defs, wire]);
}
