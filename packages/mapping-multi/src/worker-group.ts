import { Worker, type MessagePort, type ResourceLimits, type TransferListItem } from 'node:worker_threads';
import { WorkerError, type D4Error } from '@d4/core';
import { fromWireError, type WireError } from '@d4/runtime';

import { workerFile } from './worker-file.js';

export interface WorkerSpec {
  /** What the worker runs, for error messages: "worker 3 (PE Identity2, instance 1)". */
  label: string;
  data: unknown;
  /** MessagePorts for the worker; never ArrayBuffers (see ownBytes in the runtime). */
  transferList?: readonly MessagePort[];
}

export interface WorkerGroupOptions {
  specs: readonly WorkerSpec[];
  /** Every message a worker posts, except 'error' messages (which fail the run). */
  onMessage: (index: number, message: any) => void;
  /** Fails the run once (the runtime's RunControl): a worker died, or reported an error. */
  fail: (error: D4Error) => void;
  /** True once the run is stopping: messages and exits from then on are expected. */
  stopped: () => boolean;
  /** Heap limit per worker (MB): a worker that exceeds it dies and the run fails. */
  memoryMb?: number;
  /** Node flags of the workers (the runtime's workerExecArgv); default: the driver's own. */
  execArgv?: string[];
}

/**
 * Flags given to a worker explicitly may not include process-wide ones (--max-old-space-size,
 * --v8-pool-size, …: they already apply to every thread). Node names the ones it refused in
 * its error; they are dropped, with a separate value that follows one. Undefined (inherit
 * the driver's flags, as Node does by default) when the error does not name them.
 */
function workerValidFlags(execArgv: string[], message: string): string[] | undefined {
  const listed = /: (.+)$/.exec(message)?.[1];
  if (!listed) return undefined;
  const refused = new Set(listed.split(', '));
  const kept: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    if (!refused.has(execArgv[i])) kept.push(execArgv[i]);
    else if (!execArgv[i].includes('=') && i + 1 < execArgv.length && !execArgv[i + 1].startsWith('-')) i++;
  }
  return kept;
}

/**
 * The worker threads of a run. Any failure — a PE error a worker reports, a worker that
 * dies (process.exit() in a PE, out of memory, terminated) — fails the run once through
 * `fail`, which stops every worker. A worker's death is seen through its 'exit'/'error'
 * events, so it is reported at once, not after a timeout.
 */
export class WorkerGroup {
  readonly workers: Worker[] = [];
  private readonly labels: string[];
  private stopping: Promise<void> | undefined;

  constructor(private readonly options: WorkerGroupOptions) {
    this.labels = options.specs.map((s) => s.label);
    const file = workerFile();
    const resourceLimits: ResourceLimits | undefined = options.memoryMb ? { maxOldGenerationSizeMb: options.memoryMb } : undefined;
    let execArgv = options.execArgv;
    const quiet = () => this.stopping !== undefined || options.stopped();
    options.specs.forEach((spec, index) => {
      const start = () => new Worker(file, { workerData: spec.data, transferList: spec.transferList as TransferListItem[] | undefined, resourceLimits, execArgv });
      let worker: Worker;
      try {
        worker = start();
      } catch (error) {
        const { code, message } = error as { code?: string; message?: string };
        if (execArgv === undefined || code !== 'ERR_WORKER_INVALID_EXEC_ARGV') throw error;
        execArgv = workerValidFlags(execArgv, message ?? '');
        try {
          worker = start();
        } catch {
          execArgv = undefined; // the driver's own flags, as Node passes them on by default
          worker = start();
        }
      }
      worker.on('message', (message: any) => {
        if (quiet()) return;
        if (message && message.type === 'error') {
          options.fail(fromWireError(message.error as WireError, `${spec.label}`));
          return;
        }
        try {
          options.onMessage(index, message);
        } catch (error) {
          options.fail(error as D4Error);
        }
      });
      worker.on('error', (error: Error & { code?: string }) => {
        if (quiet()) return;
        const oom = error.code === 'ERR_WORKER_OUT_OF_MEMORY';
        options.fail(
          new WorkerError(
            `${spec.label} died${oom ? ' out of memory' : ''}: ${error.message}${oom ? '; a PE keeps too much data (raise --worker-memory, or keep less per item)' : ''}`,
            oom ? 'D4_WORKER_OUT_OF_MEMORY' : 'D4_WORKER_DIED',
            { cause: error },
          ),
        );
      });
      worker.on('messageerror', (error) => {
        if (!quiet()) options.fail(new WorkerError(`${spec.label} sent a message that cannot be read: ${error.message}`, 'D4_WORKER_MESSAGE', { cause: error }));
      });
      worker.on('exit', (code) => {
        if (quiet()) return;
        options.fail(
          new WorkerError(
            `${spec.label} exited with code ${code} before the run finished; a PE may have called process.exit(), or the thread was terminated`,
            'D4_WORKER_EXITED',
          ),
        );
      });
      this.workers.push(worker);
    });
  }

  label(index: number): string {
    return this.labels[index];
  }

  /** Copies the message (never transfers: see ownBytes in the runtime). */
  post(index: number, message: unknown): void {
    if (!this.stopping) this.workers[index].postMessage(message);
  }

  /** Stops every worker (idempotent). Exits after this are expected, not failures. */
  stop(): Promise<void> {
    this.stopping ??= Promise.all(this.workers.map((w) => w.terminate().catch(() => 0))).then(() => undefined);
    return this.stopping;
  }
}
