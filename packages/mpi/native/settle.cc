#include "settle.h"

namespace d4mpi {

AddonState& State(Napi::Env env) { return *env.GetInstanceData<AddonState>(); }

Napi::Value MakeError(Napi::Env env, const char* code, const std::string& message, int mpiError) {
  AddonState& state = State(env);
  if (state.makeError.IsEmpty()) return Napi::Error::New(env, std::string(code) + ": " + message).Value();
  int errorClass = 0;
  if (mpiError != 0) MPI_Error_class(mpiError, &errorClass);
  return state.makeError.Call({Napi::String::New(env, code), Napi::String::New(env, message), Napi::Number::New(env, errorClass)});
}

Napi::Buffer<char> OwningBuffer(Napi::Env env, char* data, size_t size) {
  Napi::MemoryManagement::AdjustExternalMemory(env, static_cast<int64_t>(size));
  return Napi::Buffer<char>::New(env, data, size, [size](Napi::Env finalizerEnv, char* bytes) {
    std::free(bytes);
    Napi::MemoryManagement::AdjustExternalMemory(finalizerEnv, -static_cast<int64_t>(size));
  });
}

namespace {

Napi::Value WorldObject(Napi::Env env, const WorldInfo& world) {
  Napi::Object info = Napi::Object::New(env);
  info.Set("rank", world.rank);
  info.Set("size", world.size);
  info.Set("provided", world.provided);
  info.Set("tagUpperBound", world.tagUpperBound);
  info.Set("processorName", world.processorName);
  return info;
}

Napi::Value ReceivedObject(Napi::Env env, Op* op) {
  Napi::Value buffer;
  if (!op->target.IsEmpty()) {
    // Received into a Buffer the JavaScript thread made (receive.cc).
    buffer = op->target.Value();
    op->target.Reset();
  } else {
    buffer = OwningBuffer(env, op->data, op->size);
    op->data = nullptr;
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("data", buffer);
  result.Set("source", op->source);
  result.Set("tag", op->tag);
  return result;
}

}  // namespace

void SettleOp(Napi::Env env, Op* op) {
  Napi::HandleScope scope(env);
  op->pins.clear();
  if (op->cancelled) {
    std::string source = op->source == MPI_ANY_SOURCE ? "any" : std::to_string(op->source);
    std::string tag = op->tag == MPI_ANY_TAG ? "any" : std::to_string(op->tag);
    op->deferred.Reject(MakeError(env, "D4_MPI_FINALIZED",
                                  "a receive (source " + source + ", tag " + tag + ") was still waiting when MPI.finalize() was called; await every recv() before finalize()"));
    return;
  }
  if (op->error != MPI_SUCCESS) {
    op->deferred.Reject(MakeError(env, "D4_MPI_ERROR", DescribeMpiError(op->error, op->where), op->error));
    return;
  }
  switch (op->kind) {
    case Op::Kind::Init: {
      const WorldInfo& world = State(env).engine->world();
      if (world.provided < MPI_THREAD_MULTIPLE) {
        op->deferred.Reject(MakeError(env, "D4_MPI_THREADS",
                                      "this MPI library gives thread level " + std::to_string(world.provided) +
                                          " but @d4/mpi needs MPI_THREAD_MULTIPLE (its progress thread and JavaScript's thread both call MPI); "
                                          "use an Open MPI or MPICH built with thread support (Debian's are)"));
        return;
      }
      State(env).ready = true;
      op->deferred.Resolve(WorldObject(env, world));
      return;
    }
    case Op::Kind::Receive:
      op->deferred.Resolve(ReceivedObject(env, op));
      if (Tracing()) RecordTrace(op->stamps);
      return;
    case Op::Kind::Finalize:
      State(env).finalized = true;
      op->deferred.Resolve(env.Undefined());
      return;
    case Op::Kind::Request:
    case Op::Kind::Send:
      op->deferred.Resolve(env.Undefined());
      return;
  }
}

}  // namespace d4mpi
