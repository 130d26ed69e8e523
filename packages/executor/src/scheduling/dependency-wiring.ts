import { CancelledError, DependencyError } from '../errors.js';
import type { Future } from '../future.js';

/**
 * Makes `future`'s task wait for its argument futures: `ready` runs once all of them
 * succeeded (in the tick the last one completes, from its done callback: no poll). If one
 * fails, the future fails with D4_DEPENDENCY_FAILED whose cause is the upstream error; if one
 * is cancelled, the future is cancelled.
 */
export function waitForDependencies(future: Future<unknown>, label: string, deps: readonly Future<unknown>[], ready: () => void): void {
  let waitingFor = deps.length;
  const onDependencyDone = (dep: Future<unknown>) => {
    if (future.done()) return;
    const outcome = dep._valueIfDone()!;
    if (!outcome.ok) {
      if (outcome.cancelled) {
        propagate(() => future._cancel(new CancelledError(`task #${future.id} (${label}) was cancelled because its argument, task #${dep.id} (${dep.label}), was cancelled`)));
      } else {
        const upstream = outcome.error;
        const root = upstream instanceof DependencyError ? upstream.rootMessage : ((upstream as Error)?.message ?? String(upstream));
        const how = upstream instanceof DependencyError ? 'did not run either' : 'failed';
        propagate(() => future._reject(new DependencyError(`task #${future.id} (${label}) did not run because its argument, task #${dep.id} (${dep.label}), ${how}; the first failure: ${root}`, upstream, root)));
      }
      return;
    }
    if (--waitingFor === 0) ready();
  };
  for (const dep of deps) dep.addDoneCallback(onDependencyDone);
}

/**
 * Failures and cancellations travel down a chain of dependents through done callbacks. Run
 * nested propagations from a loop instead of recursively, so a chain of any length does not
 * overflow the stack (the outermost call still completes everything before it returns).
 */
const propagation: (() => void)[] = [];
let propagating = false;
function propagate(step: () => void): void {
  propagation.push(step);
  if (propagating) return;
  propagating = true;
  try {
    for (let i = 0; i < propagation.length; i++) propagation[i]();
  } finally {
    propagation.length = 0;
    propagating = false;
  }
}
