// Non-blocking collectives posted from the JavaScript thread and driven to completion by
// the progress thread. The TypeScript layer runs them one at a time, in call order, which
// is what MPI asks of every rank of a communicator.
#include <napi.h>
#include <mpi.h>

#include "post.h"

namespace d4mpi {
namespace {

// Indices shared with src/native.ts (DATATYPES, OPS).
MPI_Datatype Datatype(int id) {
  static const MPI_Datatype types[] = {MPI_INT8_T, MPI_UINT8_T, MPI_INT16_T, MPI_UINT16_T, MPI_INT32_T,
                                       MPI_UINT32_T, MPI_INT64_T, MPI_UINT64_T, MPI_FLOAT, MPI_DOUBLE};
  return types[id];
}

MPI_Op Operation(int id) {
  static const MPI_Op ops[] = {MPI_SUM, MPI_MIN, MPI_MAX, MPI_PROD};
  return ops[id];
}

int Int(const Napi::Value& value) { return value.As<Napi::Number>().Int32Value(); }
int Count(const Bytes& bytes) { return static_cast<int>(bytes.length); }
bool Given(const Napi::Value& value) { return !value.IsNull() && !value.IsUndefined(); }
Bytes Optional(const Napi::Value& value) { return Given(value) ? BytesOf(value) : Bytes{}; }

// bcast(buffer, root): the root's bytes into everyone's buffer of the same length.
Napi::Value Bcast(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RunningEngine(env);
  Bytes buffer = BytesOf(info[0]);
  MPI_Request request;
  ThrowIfFailed(env, MPI_Ibcast(buffer.data, Count(buffer), MPI_BYTE, Int(info[1]), MPI_COMM_WORLD, &request), "MPI_Ibcast");
  return Post(env, request, "MPI_Ibcast", {info[0]});
}

// gather(send, recv | null, root): equal-sized blocks, rank order, into the root's recv.
Napi::Value Gather(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RunningEngine(env);
  Bytes send = BytesOf(info[0]);
  Bytes recv = Optional(info[1]);
  MPI_Request request;
  ThrowIfFailed(env, MPI_Igather(send.data, Count(send), MPI_BYTE, recv.data, Count(send), MPI_BYTE, Int(info[2]), MPI_COMM_WORLD, &request), "MPI_Igather");
  return Post(env, request, "MPI_Igather", {info[0], info[1]});
}

// gatherv(send, recv | null, counts | null, displacements | null, root): the counts and
// displacements (Int32Array, bytes) matter at the root only.
Napi::Value Gatherv(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RunningEngine(env);
  Bytes send = BytesOf(info[0]);
  Bytes recv = Optional(info[1]);
  Bytes counts = Optional(info[2]);
  Bytes displacements = Optional(info[3]);
  MPI_Request request;
  ThrowIfFailed(env,
                MPI_Igatherv(send.data, Count(send), MPI_BYTE, recv.data, static_cast<int*>(counts.data), static_cast<int*>(displacements.data), MPI_BYTE,
                             Int(info[4]), MPI_COMM_WORLD, &request),
                "MPI_Igatherv");
  return Post(env, request, "MPI_Igatherv", {info[0], info[1], info[2], info[3]});
}

// allgather(send, recv): equal-sized blocks from every rank, in rank order, on every rank.
Napi::Value Allgather(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RunningEngine(env);
  Bytes send = BytesOf(info[0]);
  Bytes recv = BytesOf(info[1]);
  MPI_Request request;
  ThrowIfFailed(env, MPI_Iallgather(send.data, Count(send), MPI_BYTE, recv.data, Count(send), MPI_BYTE, MPI_COMM_WORLD, &request), "MPI_Iallgather");
  return Post(env, request, "MPI_Iallgather", {info[0], info[1]});
}

// allgatherv(send, recv, counts, displacements).
Napi::Value Allgatherv(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RunningEngine(env);
  Bytes send = BytesOf(info[0]);
  Bytes recv = BytesOf(info[1]);
  Bytes counts = BytesOf(info[2]);
  Bytes displacements = BytesOf(info[3]);
  MPI_Request request;
  ThrowIfFailed(env,
                MPI_Iallgatherv(send.data, Count(send), MPI_BYTE, recv.data, static_cast<int*>(counts.data), static_cast<int*>(displacements.data), MPI_BYTE,
                                MPI_COMM_WORLD, &request),
                "MPI_Iallgatherv");
  return Post(env, request, "MPI_Iallgatherv", {info[0], info[1], info[2], info[3]});
}

int Elements(const Bytes& bytes, MPI_Datatype type) {
  int size = 1;
  MPI_Type_size(type, &size);
  return static_cast<int>(bytes.length / static_cast<size_t>(size));
}

// reduce(send, recv | null, datatype, op, root).
Napi::Value Reduce(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RunningEngine(env);
  Bytes send = BytesOf(info[0]);
  Bytes recv = Optional(info[1]);
  MPI_Datatype type = Datatype(Int(info[2]));
  MPI_Request request;
  ThrowIfFailed(env, MPI_Ireduce(send.data, recv.data, Elements(send, type), type, Operation(Int(info[3])), Int(info[4]), MPI_COMM_WORLD, &request), "MPI_Ireduce");
  return Post(env, request, "MPI_Ireduce", {info[0], info[1]});
}

// allreduce(send, recv, datatype, op).
Napi::Value Allreduce(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RunningEngine(env);
  Bytes send = BytesOf(info[0]);
  Bytes recv = BytesOf(info[1]);
  MPI_Datatype type = Datatype(Int(info[2]));
  MPI_Request request;
  ThrowIfFailed(env, MPI_Iallreduce(send.data, recv.data, Elements(send, type), type, Operation(Int(info[3])), MPI_COMM_WORLD, &request), "MPI_Iallreduce");
  return Post(env, request, "MPI_Iallreduce", {info[0], info[1]});
}

Napi::Value Barrier(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RunningEngine(env);
  MPI_Request request;
  ThrowIfFailed(env, MPI_Ibarrier(MPI_COMM_WORLD, &request), "MPI_Ibarrier");
  return Post(env, request, "MPI_Ibarrier", {});
}

}  // namespace

void InitCollectives(Napi::Env env, Napi::Object exports) {
  exports.Set("bcast", Napi::Function::New(env, Bcast));
  exports.Set("gather", Napi::Function::New(env, Gather));
  exports.Set("gatherv", Napi::Function::New(env, Gatherv));
  exports.Set("allgather", Napi::Function::New(env, Allgather));
  exports.Set("allgatherv", Napi::Function::New(env, Allgatherv));
  exports.Set("reduce", Napi::Function::New(env, Reduce));
  exports.Set("allreduce", Napi::Function::New(env, Allreduce));
  exports.Set("barrier", Napi::Function::New(env, Barrier));
}

}  // namespace d4mpi
