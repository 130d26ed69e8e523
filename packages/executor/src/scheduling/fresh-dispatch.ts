/**
 * Fresh dispatch (no block allocation): every task starts a worker of its own sized to the
 * task, when its cores and GPUs are free and fewer than maxWorkers workers run.
 */

export interface Need {
  readonly cores: number;
  readonly gpus: number;
}

/** What is free right now. The strategy takes from it as it starts tasks. */
export interface Capacity {
  freeCores: number;
  freeGpus: number;
  /** Workers that may still start. */
  freeWorkers: number;
}

export function fits(need: Need, capacity: Capacity): boolean {
  return need.cores <= capacity.freeCores && need.gpus <= capacity.freeGpus && capacity.freeWorkers > 0;
}

/**
 * Picks, in order, every task that fits what is left. No head-of-line blocking: a task that
 * fits starts even when an earlier, larger one has to wait (so a stream of small tasks can
 * delay a large one; submit order decides among the tasks that fit).
 */
export function takeFitting<T extends Need>(capacity: Capacity, start: (task: T) => void): (task: T) => boolean {
  return (task) => {
    if (!fits(task, capacity)) return false;
    capacity.freeCores -= task.cores;
    capacity.freeGpus -= task.gpus;
    capacity.freeWorkers--;
    start(task);
    return true;
  };
}
