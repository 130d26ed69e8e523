import { D4Error } from '@d4/core';
import { isRunning, track, type Launch } from './launch.js';
import { launchLocal } from './local-launch.js';
import { checkMpiImpl } from './mpi-flavour.js';
import { launchMpi } from './mpi-launch.js';
import { GroupProcess } from './process.js';
import type { Joinable, ProcessExit, ProcessGroupOptions, ProcessTemplate, StdioMode } from './types.js';

const MODES: readonly StdioMode[] = ['pipe', 'inherit', 'ignore'];

function groupError(message: string): D4Error {
  return new D4Error('D4_PROCESS_GROUP', message);
}

function checkTemplate(template: ProcessTemplate, index: number): void {
  const where = `template ${index} of the ProcessGroup`;
  if (typeof template?.command !== 'string' || template.command === '') throw groupError(`${where} has no command: give { command: 'program', args: [...] }`);
  const nproc = template.nproc ?? 1;
  if (!Number.isInteger(nproc) || nproc < 1) throw groupError(`${where} (${template.command}) has nproc ${JSON.stringify(template.nproc)}; it must be a whole number of at least 1`);
  for (const stream of ['stdout', 'stderr'] as const) {
    const mode = template[stream];
    if (mode !== undefined && !MODES.includes(mode)) throw groupError(`${where} (${template.command}) has ${stream}: ${JSON.stringify(mode)}; use 'pipe', 'inherit' or 'ignore'`);
  }
  if (template.args !== undefined && (!Array.isArray(template.args) || template.args.some((a) => typeof a !== 'string'))) {
    throw groupError(`${where} (${template.command}) has args that are not an array of strings`);
  }
}

/**
 * Dragon's ProcessGroup: templates of processes started together, joined and stopped
 * together, with piped stdout as lines. With `mpi: true` the processes are the ranks of one
 * MPI job; otherwise they are independent children of this process.
 */
export class ProcessGroup implements Joinable {
  readonly #options: ProcessGroupOptions;
  readonly #templates: ProcessTemplate[] = [];
  readonly #slots: GroupProcess[] = [];
  readonly #launches = new Set<Launch>();
  #state: 'new' | 'starting' | 'running' | 'stopping' | 'ended' = 'new';
  #ended!: Promise<void>;

  constructor(options: ProcessGroupOptions = {}) {
    const maxRestarts = options.maxRestarts ?? 3;
    if (!Number.isInteger(maxRestarts) || maxRestarts < 0) throw groupError(`ProcessGroup option maxRestarts must be a whole number of at least 0, got ${JSON.stringify(options.maxRestarts)}`);
    const graceMs = options.graceMs ?? 2000;
    if (!Number.isFinite(graceMs) || graceMs < 0) throw groupError(`ProcessGroup option graceMs must be a number of ms of at least 0, got ${JSON.stringify(options.graceMs)}`);
    checkMpiImpl(options.mpiImpl);
    this.#options = { ...options, maxRestarts, graceMs };
  }

  /** Adds `nproc` processes of a template; ranks follow the order of the calls. */
  add(template: ProcessTemplate): this {
    if (this.#state !== 'new') throw groupError(`ProcessGroup.add() after start(): add every template first, then start the group`);
    checkTemplate(template, this.#templates.length);
    const index = this.#templates.push({ ...template }) - 1;
    for (let i = 0; i < (template.nproc ?? 1); i++) this.#slots.push(new GroupProcess(this.#slots.length, index, template));
    return this;
  }

  /** Every process (rank order), with pid and host once started. */
  get processes(): readonly GroupProcess[] {
    return this.#slots;
  }

  get done(): boolean {
    return this.#state === 'ended';
  }

  /** Starts every process; resolves once each has a pid (with `mpi`, once every rank has started). */
  async start(): Promise<void> {
    if (this.#state !== 'new') throw groupError(`ProcessGroup.start() was called twice; create a new group to run the processes again`);
    if (this.#slots.length === 0) throw groupError(`ProcessGroup.start() with no processes: add({ command, nproc }) first`);
    this.#state = 'starting';
    try {
      if (this.#options.mpi) {
        this.#ended = this.#keepMpiJob(await this.#launch(() => launchMpi(this.#slots, this.#templates, this.#options)));
      } else {
        const launches = await Promise.allSettled(this.#slots.map((slot) => this.#launch(() => launchLocal(slot, this.#templates[slot.template]))));
        const failed = launches.find((l): l is PromiseRejectedResult => l.status === 'rejected');
        if (failed) {
          for (const l of launches) if (l.status === 'fulfilled') l.value.kill();
          await Promise.all([...this.#launches].map((l) => l.ended));
          throw failed.reason;
        }
        this.#ended = Promise.all(this.#slots.map((slot, i) => this.#keepLocal(slot, (launches[i] as PromiseFulfilledResult<Launch>).value))).then(() => undefined);
      }
    } catch (error) {
      this.#state = 'ended';
      for (const slot of this.#slots) slot.finish();
      throw error;
    }
    this.#state = 'running';
    void this.#ended.then(() => (this.#state = 'ended'));
  }

  /**
   * Waits until every process has ended for good. With a `timeout` (ms) it gives up then and
   * resolves false, leaving the processes running; true once they have all ended.
   */
  async join(options: { timeout?: number } = {}): Promise<boolean> {
    if (this.#state === 'new') throw groupError('ProcessGroup.join() before start()');
    if (this.#state === 'starting') throw groupError('ProcessGroup.join() while start() is under way: await start() first');
    return withTimeout(this.#ended, options.timeout);
  }

  /** Resolves once every process has ended for good (for `multiJoin`). */
  ended(): Promise<ProcessExit[]> {
    if (this.#state === 'new' || this.#state === 'starting') return Promise.reject(groupError('ProcessGroup.ended() before start() has resolved'));
    return this.#ended.then(() => this.#slots.map((s) => ({ rank: s.rank, exitCode: s.exitCode, signal: s.signal })));
  }

  /** SIGTERM to every process (with `mpi`, to mpiexec, which passes it on), SIGKILL after `graceMs`; no restarts. */
  async stop(): Promise<void> {
    if (this.#state === 'new') {
      this.#state = 'ended';
      return;
    }
    if (this.#state === 'ended') return;
    this.#state = 'stopping';
    for (const launch of this.#launches) launch.signal('SIGTERM');
    if (!(await withTimeout(this.#ended, this.#options.graceMs))) {
      for (const launch of this.#launches) launch.kill();
      await this.#ended;
    }
  }

  /** Every pid the group started that may still run (mpiexec, the ranks' wrappers, the programs). */
  pids(): number[] {
    return [...this.#launches].flatMap((l) => l.pids()).filter(isRunning);
  }

  async #launch(start: () => Promise<Launch>): Promise<Launch> {
    const launch = await start();
    this.#launches.add(launch);
    track(launch);
    void launch.ended.then(() => this.#launches.delete(launch));
    return launch;
  }

  #mayRestart(restarts: number): boolean {
    return this.#options.restart === true && this.#state === 'running' && restarts < this.#options.maxRestarts!;
  }

  async #keepLocal(slot: GroupProcess, launch: Launch): Promise<void> {
    for (;;) {
      await launch.ended;
      if (!this.#mayRestart(slot.restarts)) break;
      slot.restarts++;
      try {
        launch = await this.#launch(() => launchLocal(slot, this.#templates[slot.template]));
      } catch {
        break;
      }
    }
    slot.finish();
  }

  async #keepMpiJob(launch: Launch): Promise<void> {
    for (;;) {
      await launch.ended;
      if (!this.#mayRestart(this.#slots[0].restarts)) break;
      for (const slot of this.#slots) slot.restarts++;
      try {
        launch = await this.#launch(() => launchMpi(this.#slots, this.#templates, this.#options));
      } catch {
        break;
      }
    }
    for (const slot of this.#slots) slot.finish();
  }
}

async function withTimeout(promise: Promise<unknown>, timeout: number | undefined): Promise<boolean> {
  if (timeout === undefined) {
    await promise;
    return true;
  }
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeout)));
  try {
    return await Promise.race([promise.then(() => true), expired]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Waits for the first of several groups or processes to end (Dragon's
 * `multi_join(…, join_all=False)`), or for all with `all: true`. Resolves with those that have
 * ended and those still running; with a `timeout` (ms), possibly with none ended.
 */
export async function multiJoin<T extends Joinable>(items: readonly T[], options: { all?: boolean; timeout?: number } = {}): Promise<{ done: T[]; pending: T[] }> {
  if (items.length > 0 && !(options.all ? items.every((item) => item.done) : items.some((item) => item.done))) {
    const ends = items.map((item) => item.ended());
    await withTimeout(options.all ? Promise.all(ends) : Promise.race(ends), options.timeout);
  }
  return { done: items.filter((item) => item.done), pending: items.filter((item) => !item.done) };
}
