/**
 * Receives that complete on the JavaScript thread (a message already there, or caught by
 * the bounded wait) resolve without a turn of the event loop: a loop of `await recv()`
 * over a flood of waiting messages would run on microtasks alone, and timers, I/O and
 * other promises' callbacks would wait until the flood ended. So after STREAK receives
 * without a turn, the next one resolves after a setImmediate, which lets the loop turn.
 * The bookkeeping is a counter and one setImmediate per turn.
 */
const STREAK = 64;

let streak = 0;
let turnScheduled = false;

const turned = (): void => {
  streak = 0;
  turnScheduled = false;
};

export function fairly<T>(received: Promise<T>): Promise<T> {
  if (!turnScheduled) {
    turnScheduled = true;
    setImmediate(turned);
  }
  if (++streak < STREAK) return received;
  streak = 0;
  return received.then((value) => new Promise<T>((resolve) => setImmediate(resolve, value)));
}
