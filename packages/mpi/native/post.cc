#include "post.h"

#include "counters.h"

namespace d4mpi {

Bytes BytesOf(const Napi::Value& value) {
  napi_env env = value.Env();
  bool isTypedArray = false;
  napi_is_typedarray(env, value, &isTypedArray);
  if (!isTypedArray) throw Napi::TypeError::New(env, "@d4/mpi: expected a Uint8Array or another typed array");
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  napi_get_typedarray_info(env, value, &type, &length, &data, nullptr, nullptr);
  size_t element = 1;
  switch (type) {
    case napi_int16_array:
    case napi_uint16_array:
      element = 2;
      break;
    case napi_int32_array:
    case napi_uint32_array:
    case napi_float32_array:
      element = 4;
      break;
    case napi_float64_array:
    case napi_bigint64_array:
    case napi_biguint64_array:
      element = 8;
      break;
    default:
      break;
  }
  return Bytes{data, length * element};
}

Engine* RunningEngine(Napi::Env env) {
  AddonState& state = State(env);
  if (state.finalized) throw Napi::Error(env, MakeError(env, "D4_MPI_FINALIZED", "MPI was finalized (MPI.finalize()); MPI cannot be used again in this process"));
  if (!state.ready)
    throw Napi::Error(env, MakeError(env, "D4_MPI_NOT_INITIALIZED", "MPI is not initialized: await MPI.init() first"));
  return state.engine.get();
}

void ThrowIfFailed(Napi::Env env, int rc, const char* where) {
  if (rc != MPI_SUCCESS) throw Napi::Error(env, MakeError(env, "D4_MPI_ERROR", DescribeMpiError(rc, where), rc));
}

Napi::Value Post(Napi::Env env, MPI_Request request, const char* where, std::initializer_list<Napi::Value> pins) {
  Engine* engine = State(env).engine.get();
  int flag = 0;
  ThrowIfFailed(env, MPI_Test(&request, &flag, MPI_STATUS_IGNORE), where);
  Op* op = new Op(Op::Kind::Request, env);
  Napi::Promise promise = op->deferred.Promise();
  if (flag) {
    engine->Settle(env, op);
    return promise;
  }
  op->request = request;
  op->where = where;
  for (const Napi::Value& pin : pins)
    if (!pin.IsNull() && !pin.IsUndefined()) op->pins.push_back(Napi::Persistent(pin));
  engine->Submit(op);
  return promise;
}

Napi::Value SendHere(Napi::Env env, MPI_Request request, int64_t posted, size_t length, const Napi::Value& pin) {
  Engine* engine = State(env).engine.get();
  // A reply to what this rank sends may come soon: its next receive may spin for it.
  engine->receiveSpin().Sent();
  SpinPolicy& spin = engine->sendSpin();
  spin.Sent();  // a send always has its receiver to wait for: only lateness stops the spin
  // A large send completes only once the receiver has taken it (rendezvous): worth a
  // bounded wait when the receiver is likely waiting already.
  int64_t budget = length <= kInlineBytes ? spin.NextBudget() : 0;
  SpinWait wait(posted);
  int flag = 0;
  for (bool first = true;; first = false) {
    ThrowIfFailed(env, MPI_Test(&request, &flag, MPI_STATUS_IGNORE), "MPI_Test");
    if (flag) {
      if (!first) spin.Caught();
      Count(first ? kSendAtOnce : kSendCaught);
      return env.Undefined();
    }
    if (!wait.Again(posted + budget, length > kOwnedBytes)) break;
  }
  if (budget > 0) spin.Missed();
  Count(kSendHandedOver);
  Op* op = new Op(Op::Kind::Send, env);
  Napi::Promise promise = op->deferred.Promise();
  op->request = request;
  op->where = "MPI_Isend";
  op->stamps.posted = posted;
  op->pins.push_back(Napi::Persistent(pin));
  engine->Submit(op);
  return promise;
}

}  // namespace d4mpi
