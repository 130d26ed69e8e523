/**
 * What a worker thread and its executor share: a small SharedArrayBuffer.
 *
 * The task the worker is running: if the thread dies, the executor knows which task of a
 * batch killed it (its earlier results may not have left yet) and blames only that one.
 *
 * How an idle worker thread waits for its next tasks. Going back to the event loop costs a
 * wake-up through libuv and a 'message' event per batch; instead, as Piscina does, the
 * executor bumps a shared counter after each message it posts, and the worker blocks in
 * `Atomics.wait` on it and then takes the messages with `receiveMessageOnPort`.
 *
 * Blocking stops the worker's event loop, so it waits only when nothing else is pending
 * there: no timer, socket, file request or child of a task still active (Node's list of
 * active resources holds only the worker's own message ports) and no console output queued.
 * A task that leaves work behind (a timer it did not await, say) therefore keeps the worker
 * on its event loop, as before. The wait is also bounded (IDLE_WAIT_MS): after that the
 * worker goes back to its event loop and hears the next tasks as events.
 */
import { receiveMessageOnPort, type MessagePort, type TransferListItem } from 'node:worker_threads';

/** How long one wait may last before the worker returns to its event loop. */
const IDLE_WAIT_MS = 50;

/** What the executor gives a worker thread (workerData) to wake it. */
export interface WakeData {
  d4Wake: SharedArrayBuffer;
}

/**
 * Fields of the shared buffer: messages posted to the worker so far; 1 while the worker waits;
 * the id of the task it runs (0: none); 1 + the number (in its run order) of the last forwarded
 * task it started; 1 + the number from which it must not start forwarded tasks (0: none).
 */
const POSTED = 0;
const WAITING = 1;
const RUNNING = 2;
const STARTED = 3;
const FENCE = 4;

export function sharedSignals(): { buffer: SharedArrayBuffer; counter: Int32Array } {
  const buffer = new SharedArrayBuffer(20);
  return { buffer, counter: new Int32Array(buffer) };
}

/** The executor's side, once the thread has ended: the task it was running then, 0 when none. */
export function runningTask(counter: Int32Array): number {
  return Atomics.load(counter, RUNNING);
}

/**
 * The executor's side: called after each message posted to the worker. It notifies only a
 * worker that waits (a notify takes a lock every waiting thread shares; a busy worker finds
 * the message when it next looks). Both sides use sequentially consistent atomics: either
 * this load sees WAITING, or the worker's later load of POSTED sees the new count and it does
 * not sleep.
 */
export function wake(counter: Int32Array): void {
  Atomics.add(counter, POSTED, 1);
  if (Atomics.load(counter, WAITING) === 1) Atomics.notify(counter, POSTED, 1);
}

/**
 * The executor's side of a cancel of a forwarded task that has not been answered: fences off
 * the task numbered `seq` in the worker's run order, and every forwarded task after it. True
 * when the worker will not start it; false when it has started it already (it may have run:
 * the caller stops the worker, as for a running task). Dekker's pattern with sequentially
 * consistent atomics: the worker stores STARTED before it loads FENCE, the executor stores
 * FENCE before it loads STARTED, so at least one of them sees the other's write.
 */
export function fence(counter: Int32Array, seq: number): boolean {
  const current = Atomics.load(counter, FENCE);
  if (current === 0 || seq + 1 < current) Atomics.store(counter, FENCE, seq + 1);
  return Atomics.load(counter, STARTED) <= seq;
}

function isWakeData(data: unknown): data is WakeData {
  return typeof data === 'object' && data !== null && (data as WakeData).d4Wake instanceof SharedArrayBuffer;
}

export interface WorkerSignals {
  /** Marks the task the worker runs now (0 once it is done). */
  running(taskId: number): void;
  /**
   * Waits for the next messages and hands each to `accept`; true when it took some, false when
   * the worker should go back to its event loop (not safe to block, or the wait timed out).
   */
  waitForTasks(): boolean;
  /** Called before a forwarded task (number `seq` in run order) starts: false when the executor fenced it off. */
  mayStart(seq: number): boolean;
}

const NO_SIGNALS: WorkerSignals = { running: () => undefined, waitForTasks: () => false, mayStart: () => true };

/** The worker's side; without a shared buffer (a process, a launched rank) it does nothing. */
export function workerSignals(port: MessagePort | null, data: unknown, accept: (raw: Uint8Array) => void): WorkerSignals {
  if (!port || !isWakeData(data)) return NO_SIGNALS;
  const counter = new Int32Array(data.d4Wake);
  const running = (taskId: number): void => {
    Atomics.store(counter, RUNNING, taskId);
  };
  const waitForTasks = (): boolean => {
    if (!nothingElsePending()) return false;
    Atomics.store(counter, WAITING, 1);
    try {
      for (;;) {
        const seen = Atomics.load(counter, POSTED);
        // Messages posted before the counter moved are in the port already: take them first.
        let took = false;
        for (let entry = receiveMessageOnPort(port); entry; entry = receiveMessageOnPort(port)) {
          accept(entry.message as Uint8Array);
          took = true;
        }
        if (took) return true;
        if (Atomics.wait(counter, POSTED, seen, IDLE_WAIT_MS) === 'timed-out') return false;
      }
    } finally {
      Atomics.store(counter, WAITING, 0);
    }
  };
  const mayStart = (seq: number): boolean => {
    Atomics.store(counter, STARTED, seq + 1);
    const from = Atomics.load(counter, FENCE);
    return from === 0 || seq + 1 < from;
  };
  return { running, waitForTasks, mayStart };
}

/** Only message ports are active (no timer, socket, file request, child process…) and no output is queued. */
function nothingElsePending(): boolean {
  if (process.stdout.writableLength > 0 || process.stderr.writableLength > 0) return false;
  const active = process.getActiveResourcesInfo();
  for (let i = 0; i < active.length; i++) if (active[i] !== 'MessagePort') return false;
  return true;
}

/**
 * Posts exactly these bytes to the other thread. A Uint8Array posted as it is carries its
 * whole ArrayBuffer through the structured clone, and the codec's buffers are views of one
 * reused buffer of 8 KB or more (32 KB once a batch of 1 000 tasks was encoded): a 15-byte
 * answer copied all of it, on both sides (21 µs a message here, against 2 µs). A copy of its
 * own is sent instead: cloned when small, moved with the transfer list from about a kilobyte,
 * where moving is the cheaper (2.9 against 4.2 µs for 4 KB).
 */
export function postBytes(target: { postMessage(value: unknown, transfer?: readonly TransferListItem[]): void }, bytes: Uint8Array): void {
  const own = new Uint8Array(bytes);
  if (own.byteLength < MOVE_FROM_BYTES) target.postMessage(own);
  else target.postMessage(own, [own.buffer]);
}

const MOVE_FROM_BYTES = 1024;
