// The collectives over d4 values. Values have sizes only their sender knows, so bcast,
// gather and allgather first share the sizes, then the bytes (gatherv/allgatherv, at
// offsets rounded to 8 so that typed arrays arrive as aligned views). Collectives run one
// after another in call order: MPI needs every rank to enter them in the same order, and
// a two-step collective must finish both steps before the next one starts.
import { checkLength, checkRank } from './checks.js';
import { OPS, type NativeAddon, type ReduceOp, type WorldInfo } from './native.js';
import { packContiguous, unpack } from './pack.js';
import { FLOAT64, agreement, checkAgreement, reduction, type Reducible, type Reduction } from './reduction.js';

export interface CollectiveContext {
  native: NativeAddon;
  info: WorldInfo;
}

const align8 = (n: number) => (n + 7) & ~7;

/** Offsets of blocks of the given sizes, each rounded up to 8, and the total. */
function layout(sizes: Float64Array): { counts: Int32Array; displacements: Int32Array; total: number } {
  const counts = Int32Array.from(sizes);
  const displacements = new Int32Array(sizes.length);
  let total = 0;
  for (let i = 0; i < sizes.length; i++) {
    displacements[i] = total;
    total = align8(total + counts[i]);
  }
  checkLength('COMM_WORLD.gather/allgather', total);
  return { counts, displacements, total };
}

function blocks(buffer: Buffer, counts: Int32Array, displacements: Int32Array): unknown[] {
  return Array.from(counts, (count, i) => unpack(buffer.subarray(displacements[i], displacements[i] + count)));
}

export class Collectives {
  #queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly context: () => CollectiveContext) {}

  #inTurn<T>(run: (context: CollectiveContext) => Promise<T>): Promise<T> {
    let context: CollectiveContext;
    try {
      context = this.context();
    } catch (error) {
      return Promise.reject(error);
    }
    const result = this.#queue.then(() => run(context));
    this.#queue = result.catch(() => undefined);
    return result;
  }

  bcast<T>(value: T | undefined, root: number): Promise<T> {
    return this.#inTurn(async ({ native, info }) => {
      checkRank('COMM_WORLD.bcast(value, root)', 'root', root, info);
      const isRoot = root === info.rank;
      const message = isRoot ? packContiguous(value) : undefined;
      const size = Float64Array.of(message?.byteLength ?? 0);
      await native.bcast(size, root);
      if (isRoot) {
        await native.bcast(message!, root);
        return value as T;
      }
      const buffer = Buffer.allocUnsafeSlow(size[0]);
      await native.bcast(buffer, root);
      return unpack(buffer) as T;
    });
  }

  gather<T>(value: T, root: number): Promise<T[] | undefined> {
    return this.#inTurn(async ({ native, info }) => {
      checkRank('COMM_WORLD.gather(value, root)', 'root', root, info);
      const isRoot = root === info.rank;
      const message = packContiguous(value);
      const sizes = isRoot ? new Float64Array(info.size) : null;
      await native.gather(Float64Array.of(message.byteLength), sizes, root);
      if (!isRoot) {
        await native.gatherv(message, null, null, null, root);
        return undefined;
      }
      const { counts, displacements, total } = layout(sizes!);
      const buffer = Buffer.allocUnsafeSlow(total);
      await native.gatherv(message, buffer, counts, displacements, root);
      return blocks(buffer, counts, displacements) as T[];
    });
  }

  allgather<T>(value: T): Promise<T[]> {
    return this.#inTurn(async ({ native, info }) => {
      const message = packContiguous(value);
      const sizes = new Float64Array(info.size);
      await native.allgather(Float64Array.of(message.byteLength), sizes);
      const { counts, displacements, total } = layout(sizes);
      const buffer = Buffer.allocUnsafeSlow(total);
      await native.allgatherv(message, buffer, counts, displacements);
      return blocks(buffer, counts, displacements) as T[];
    });
  }

  reduce<T extends Reducible>(value: T, op: ReduceOp, root: number): Promise<T | undefined> {
    return this.#inTurn(async ({ native, info }) => {
      const call = 'COMM_WORLD.reduce(value, op, root)';
      checkRank(call, 'root', root, info);
      const r = reduction(call, value, op);
      await agree(native, call, r);
      const result = root === info.rank ? r.result() : null;
      await native.reduce(r.send, result, r.datatype, r.op, root);
      return result ? r.read(result) : undefined;
    });
  }

  allreduce<T extends Reducible>(value: T, op: ReduceOp): Promise<T> {
    return this.#inTurn(async ({ native }) => {
      const call = 'COMM_WORLD.allreduce(value, op)';
      const r = reduction(call, value, op);
      await agree(native, call, r);
      const result = r.result();
      await native.allreduce(r.send, result, r.datatype, r.op);
      return r.read(result);
    });
  }

  barrier(): Promise<void> {
    return this.#inTurn(({ native }) => native.barrier());
  }
}

/** Every rank checks that all gave the same type and length (one small allreduce first). */
async function agree<T>(native: NativeAddon, call: string, r: Reduction<T>): Promise<void> {
  const combined = new Float64Array(4);
  await native.allreduce(agreement(r), combined, FLOAT64, OPS.max);
  checkAgreement(call, r, combined);
}
