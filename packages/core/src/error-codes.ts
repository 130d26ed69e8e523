/**
 * Every error code d4 raises, in one closed table: what it means and how the `d4` command
 * exits on it. `D4Error` takes a `D4ErrorCode`, so a code that is not listed here does not
 * compile, and the CLI's exit code is read from this table instead of guessed from a prefix.
 *
 * `exit` is the kind of failure, not the number (the CLI maps kinds to numbers):
 * - `usage`: refused before any work, because of what the user typed, pointed at or
 *   configured (arguments, options, JSON, files, workflow, graph, mapping, server address).
 * - `runFailed`: the run started and failed (a PE threw, a worker died, a server went away),
 *   or d4 itself has a bug.
 * - `interrupted`: stopped on request (Ctrl-C, an abort signal, a cancellation).
 *
 * The table is published in packages/cli/README.md (scripts/error-codes-table.mjs writes it;
 * a CLI test checks that both agree).
 */
export type ExitKind = 'usage' | 'runFailed' | 'interrupted';

export interface ErrorCodeInfo {
  readonly exit: ExitKind;
  readonly summary: string;
}

export const ERROR_CODES = {
  // --- the command line
  D4_USAGE: { exit: 'usage', summary: 'bad command line: unknown command or option, missing argument, no mapping named' },
  D4_ARGS_JSON: { exit: 'usage', summary: '`--args` is not valid JSON' },
  D4_NO_WORKER: { exit: 'usage', summary: '`d4 worker` names a mapping that has no workers to start' },
  D4_OPTION: { exit: 'usage', summary: 'an option given to a mapping or the CLI is invalid' },

  // --- input spec (-i / -d / -f)
  D4_INPUT: { exit: 'usage', summary: 'the input spec is invalid' },
  D4_INPUT_FILE: { exit: 'usage', summary: 'the `-f` file cannot be read' },
  D4_INPUT_ITERATIONS: { exit: 'usage', summary: '`-i` is not a whole number of iterations' },
  D4_INPUT_JSON: { exit: 'usage', summary: '`-d` or the `-f` file is not valid JSON' },
  D4_INPUT_NOT_ROOT: { exit: 'usage', summary: 'the input spec feeds a PE that is not a root' },
  D4_INPUT_UNKNOWN_PE: { exit: 'usage', summary: 'the input spec names a PE the graph does not have' },
  D4_INPUT_VALUE: { exit: 'usage', summary: "a PE's input is neither a count nor a list of inputs" },

  // --- workflow modules
  D4_WORKFLOW: { exit: 'usage', summary: 'the workflow module cannot be loaded or holds no usable graph' },
  D4_WORKFLOW_AMBIGUOUS: { exit: 'usage', summary: 'the module exports several graphs and `-a` names none of them' },
  D4_WORKFLOW_ARGS: { exit: 'usage', summary: "a factory's `--args` are not what it takes" },
  D4_WORKFLOW_FACTORY: { exit: 'usage', summary: 'a graph factory threw or returned no graph' },
  D4_WORKFLOW_IMPORT: { exit: 'usage', summary: 'importing the workflow module threw' },
  D4_WORKFLOW_MISMATCH: { exit: 'usage', summary: "a worker rebuilt a different graph than the job's driver" },
  D4_WORKFLOW_NOT_A_GRAPH: { exit: 'usage', summary: 'the export named by `-a` is not a graph or a factory' },
  D4_WORKFLOW_NOT_A_MODULE: { exit: 'usage', summary: 'the graph was built inline, so workers cannot rebuild it from a module' },
  D4_WORKFLOW_NOT_FOUND: { exit: 'usage', summary: 'the workflow file or package does not exist' },
  D4_WORKFLOW_NO_EXPORT: { exit: 'usage', summary: 'the module has no export of the name given by `-a`' },
  D4_WORKFLOW_NO_GRAPH: { exit: 'usage', summary: 'the module exports no graph' },
  D4_WORKFLOW_NO_CORE: { exit: 'usage', summary: 'the workflow imports @d4/core, which cannot be found from its folder' },
  D4_WORKFLOW_SHARED_PES: { exit: 'usage', summary: 'workers that share a thread need PE objects of their own, and the module gives each the same ones (export a factory)' },
  D4_TSX_MISSING: { exit: 'usage', summary: 'a TypeScript workflow is loaded in-process, but tsx (core\'s optional peer) is not installed' },

  // --- graphs
  D4_GRAPH: { exit: 'usage', summary: 'the graph is malformed' },
  D4_GRAPH_CYCLE: { exit: 'usage', summary: 'the graph has a cycle' },
  D4_GRAPH_DUPLICATE_ID: { exit: 'usage', summary: 'two PEs have the same id' },
  D4_GRAPH_EMPTY: { exit: 'usage', summary: 'the graph has no PE' },
  D4_GRAPH_NODE: { exit: 'usage', summary: 'connect() was given something that is not a PE or a composite' },
  D4_GRAPH_PARTITION: { exit: 'usage', summary: "a partition lists a PE that is not in the graph" },
  D4_GRAPH_UNKNOWN_PORT: { exit: 'usage', summary: 'a connection names a port the PE does not declare' },
  D4_PARTITION: { exit: 'usage', summary: 'a `multi` partition lists a PE twice or one outside the graph' },
  D4_PARTITION_CYCLE: { exit: 'usage', summary: 'the partitions of `multi` depend on each other in a cycle' },

  // --- mappings
  D4_UNKNOWN_MAPPING: { exit: 'usage', summary: 'no mapping of that name is known or installed' },
  D4_MAPPING_NOT_INSTALLED: { exit: 'usage', summary: "the mapping's package is not installed (the message names it)" },
  D4_BAD_MAPPING_PACKAGE: { exit: 'usage', summary: 'the package does not export the mapping it is said to provide' },
  D4_NOT_BUILT: { exit: 'usage', summary: 'a d4 package (the CLI, a mapping) is used before it is built: the message says how to build it' },
  D4_STATEFUL_REFUSED: { exit: 'usage', summary: 'a stateless-only mapping was given a stateful PE' },
  D4_TOO_FEW_PROCESSES: { exit: 'usage', summary: 'the graph needs more processes than `-n` gives' },

  // --- Redis mappings: refused before the run
  D4_REDIS_AUTH: { exit: 'usage', summary: "Redis refused the URL's credentials" },
  D4_REDIS_DB: { exit: 'usage', summary: "Redis refused the URL's database number" },
  D4_REDIS_EVICTION: { exit: 'usage', summary: 'the Redis server may evict keys (maxmemory-policy is not noeviction)' },
  D4_REDIS_JOB_EXISTS: { exit: 'usage', summary: 'a job with that `--job` id is already running' },
  D4_REDIS_JOB_FORMAT: { exit: 'usage', summary: 'the job was started by another version of @d4/mapping-redis' },
  D4_REDIS_JOB_GONE: { exit: 'usage', summary: 'the job to join is over or was never started' },
  D4_REDIS_JOB_OPTION: { exit: 'usage', summary: 'the `--job` id is not valid' },
  D4_REDIS_NO_JOB: { exit: 'usage', summary: 'there is no job of that id on the server' },
  D4_REDIS_TLS: { exit: 'usage', summary: 'the TLS connection to Redis failed' },
  D4_REDIS_UNREACHABLE: { exit: 'usage', summary: 'no Redis server answers at the URL' },
  D4_REDIS_URL: { exit: 'usage', summary: '`--redis-url` is not a valid redis:// or rediss:// URL' },
  D4_REDIS_VERSION: { exit: 'usage', summary: 'the Redis server is older than 6.2' },
  D4_REDIS_WRONG_MAPPING: { exit: 'usage', summary: 'a worker joins a job of another mapping' },

  // --- Redis mappings: during the run
  D4_REDIS_DRIVER_GONE: { exit: 'runFailed', summary: "the job's driver stopped renewing it (it died)" },
  D4_REDIS_ERROR: { exit: 'runFailed', summary: 'Redis answered a command with an error' },
  D4_REDIS_JOB_ABORTED: { exit: 'runFailed', summary: 'the driver stopped the job because it failed elsewhere' },
  D4_REDIS_JOB_LOST: { exit: 'runFailed', summary: "the job's keys disappeared from the server mid-run" },
  D4_REDIS_LOST: { exit: 'runFailed', summary: 'the connection to Redis was lost mid-run' },
  D4_REDIS_NO_WORKERS: { exit: 'runFailed', summary: 'every worker of the job died' },
  D4_REDIS_PRESUMED_DEAD: { exit: 'runFailed', summary: 'this worker missed its lease and was presumed dead' },
  D4_REDIS_HEARTBEAT: { exit: 'runFailed', summary: "a worker's heartbeat thread failed, so the worker stops" },
  D4_REDIS_REFUSED: { exit: 'runFailed', summary: 'Redis refused a command the mappings need (ACL, disabled command)' },
  D4_REDIS_SETUP: { exit: 'runFailed', summary: 'Redis failed to create the job' },

  // --- the distributed dictionary (@d4/mapping-redis/ddict)
  D4_DDICT_NAME: { exit: 'usage', summary: 'a DDict name is not 1 to 100 letters, digits, `.`, `_` or `-`' },
  D4_DDICT_KEY: { exit: 'usage', summary: 'a DDict key is not a string' },
  D4_DDICT_CLOSED: { exit: 'usage', summary: 'a DDict handle is used after close() or destroy()' },
  D4_DDICT_REDIS: { exit: 'runFailed', summary: 'Redis failed a DDict operation (connection lost, error reply)' },
  // --- MPI (@d4/mpi)
  D4_MPI_MISSING: { exit: 'usage', summary: '@d4/mpi was built without MPI, or its addon cannot load: the message says what to install' },
  D4_MPI_NOT_INITIALIZED: { exit: 'usage', summary: 'an MPI call before `await MPI.init()`' },
  D4_MPI_FINALIZED: { exit: 'usage', summary: 'an MPI call after MPI.finalize(), or a receive still waiting when it was called' },
  D4_MPI_ARGUMENT: { exit: 'usage', summary: 'an MPI call was given a rank, tag, root, operation or value it cannot take' },
  D4_MPI_THREADS: { exit: 'usage', summary: 'the MPI library does not give MPI_THREAD_MULTIPLE, which @d4/mpi needs' },
  D4_MPI_ERROR: { exit: 'runFailed', summary: 'an MPI call failed: the message names the call and the MPI error' },
  // --- the ZeroMQ mapping (zmq_multi)
  D4_ZMQ_UNAVAILABLE: { exit: 'usage', summary: "zeromq's native binary does not load on this machine" },
  D4_ZMQ_ENDPOINT: { exit: 'usage', summary: '`--listen`, `--connect` or `--bind` is not an endpoint zmq_multi can use, or cannot be bound' },
  D4_ZMQ_KEY: { exit: 'usage', summary: 'the CURVE key file or `--curve-server-key` is unreadable or not a valid key' },
  D4_ZMQ_UNREACHABLE: { exit: 'usage', summary: 'a worker reached no driver at `--connect` within `--connect-timeout`' },
  D4_ZMQ_REFUSED: { exit: 'usage', summary: "the CURVE handshake failed: the worker's `--curve-server-key` is not the driver's key, or one side has no keys" },
  D4_ZMQ_MISSING_WORKERS: { exit: 'runFailed', summary: 'fewer workers joined than the run needs within `--wait`' },
  D4_ZMQ_DRIVER_LOST: { exit: 'runFailed', summary: "a worker lost its connection to the run's driver" },
  D4_ZMQ_RUN_FAILED: { exit: 'runFailed', summary: 'the run a worker had joined failed (its driver says why)' },

  // --- runs
  D4_PE_FAILED: { exit: 'runFailed', summary: 'a PE threw: the message names the PE and the item, the PE stack follows' },
  D4_CODEC: { exit: 'runFailed', summary: 'a value cannot cross a process or host boundary' },
  D4_GROUPING_VALUE: { exit: 'runFailed', summary: 'a group-by input received a value that is neither an array nor an object' },
  D4_NOT_RUNNING: { exit: 'runFailed', summary: 'a PE wrote output outside a run' },
  D4_WORKER: { exit: 'runFailed', summary: 'a worker or a server failed during the run' },
  D4_WORKER_DIED: { exit: 'runFailed', summary: 'a worker thread died' },
  D4_WORKER_EXITED: { exit: 'runFailed', summary: 'a worker thread exited before its work was done' },
  D4_WORKER_FAILED: { exit: 'runFailed', summary: 'a worker failed with an error that is not a d4 error' },
  D4_PE_EXIT: { exit: 'runFailed', summary: 'process.exit() was called outside any PE call, ending a worker' },
  D4_WORKER_MESSAGE: { exit: 'runFailed', summary: 'a worker sent a message that cannot be read' },
  D4_WORKER_OUT_OF_MEMORY: { exit: 'runFailed', summary: 'a worker ran out of memory' },
  D4_WORKER_SPAWN: { exit: 'runFailed', summary: 'a worker process cannot be started' },
  D4_INTERNAL: { exit: 'runFailed', summary: "d4's own bug: please report it" },
  D4_ABORTED: { exit: 'interrupted', summary: 'the run was aborted (Ctrl-C or an abort signal)' },

  // --- the mpi mapping (@d4/mapping-mpi)
  D4_MPIEXEC_NOT_FOUND: { exit: 'usage', summary: 'the mpi mapping needs mpiexec on PATH (Open MPI: openmpi-bin)' },
  D4_MPI_OPTION: { exit: 'usage', summary: '`--mpiexec-args` or `--hostfile` of the mpi mapping is invalid' },
  D4_MPI_SIZE: { exit: 'usage', summary: 'under mpiexec, `-n` or `--processes` differs from the number of ranks mpiexec started' },
  D4_MPI_TOO_MANY_UNITS: { exit: 'usage', summary: 'too many PE instances for the MPI tags the links between them need' },
  D4_MPI_LAUNCH: { exit: 'runFailed', summary: 'mpiexec (or srun) failed or ended before rank 0 sent the result' },
  D4_MPI_RANK_DIED: { exit: 'runFailed', summary: 'an MPI rank died mid-run: the message names the rank and the host' },

  // --- the executor (@d4/executor)
  D4_EXECUTOR_OPTION: { exit: 'usage', summary: 'an Executor or map() option is invalid' },
  D4_EXECUTOR_SHUTDOWN: { exit: 'usage', summary: 'submit() or map() after shutdown()' },
  D4_PROCESS_GROUP: { exit: 'usage', summary: 'a ProcessGroup template or option is invalid, or a call comes in the wrong order' },
  D4_PROCESS_START: { exit: 'runFailed', summary: "a ProcessGroup's process or MPI job cannot start" },
  D4_FUTURE_ARGUMENT: { exit: 'usage', summary: 'a future argument belongs to another executor' },
  D4_RESOURCES: { exit: 'usage', summary: 'a task asks for more cores or GPUs than the executor has' },
  D4_TASK_NOT_SHIPPABLE: { exit: 'usage', summary: 'a task function cannot be sent to a worker (built-in, bound, not a function)' },
  D4_TASK_EXPORT: { exit: 'runFailed', summary: "a task's module has no such exported function" },
  D4_TASK_IMPORT: { exit: 'runFailed', summary: "a worker cannot import a task's module" },
  D4_TASK_NOT_SELF_CONTAINED: { exit: 'runFailed', summary: 'a task sent by source uses a variable the worker does not have' },
  D4_TASK_FAILED: { exit: 'runFailed', summary: 'a task threw in its worker' },
  D4_TASK_TIMEOUT: { exit: 'runFailed', summary: 'a task ran longer than its timeout' },
  D4_DEPENDENCY_FAILED: { exit: 'runFailed', summary: 'a future given as an argument failed' },
  D4_FUTURE_TIMEOUT: { exit: 'runFailed', summary: 'waiting for a future timed out' },
  D4_INIT_FAILED: { exit: 'runFailed', summary: "the executor's init function failed in a worker" },
  D4_WORKER_CRASHED: { exit: 'runFailed', summary: "a task's worker died more often than maxRetries allows" },
  D4_WORKER_START: { exit: 'runFailed', summary: 'the executor cannot start a worker' },
  D4_PROTOCOL: { exit: 'runFailed', summary: 'an executor worker got a message it cannot understand' },
  D4_CANCELLED: { exit: 'interrupted', summary: 'the future was cancelled' },
} as const satisfies Record<`D4_${string}`, ErrorCodeInfo>;

/** A code d4 raises. A code not in ERROR_CODES does not compile. */
export type D4ErrorCode = keyof typeof ERROR_CODES;

/** Narrows a code that arrived as a string (from a worker, another copy of d4). */
export function isD4ErrorCode(code: unknown): code is D4ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_CODES, code);
}
