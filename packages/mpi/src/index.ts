/**
 * @d4/mpi: MPI for Node.js through the system's MPI library (Open MPI or MPICH), built at
 * install time. `import { MPI } from '@d4/mpi'; const world = await MPI.init();`
 */
export { MPI, type Mpi } from './mpi.js';
export { Communicator, type Received, type ReceivedBytes, type RecvOptions } from './communicator.js';
export type { ReduceOp } from './native.js';
export type { Reducible, ReducibleArray } from './reduction.js';
export { MpiError } from './errors.js';
export { mpiBuild, type MpiBuild } from './load-addon.js';
