// The addon's exports: lifecycle (init, finalize, abort), point-to-point (send, recv) and,
// in collectives.cc, the collectives. Arguments are checked by the TypeScript layer
// (src/), which is the API; these functions are its plumbing.
#include <napi.h>
#include <mpi.h>

#include <atomic>

#include "counters.h"
#include "post.h"

namespace d4mpi {
namespace {

Napi::Value Configure(const Napi::CallbackInfo& info) {
  State(info.Env()).makeError = Napi::Persistent(info[0].As<Napi::Function>());
  return info.Env().Undefined();
}

Napi::Value LibraryVersion(const Napi::CallbackInfo& info) {
  char version[MPI_MAX_LIBRARY_VERSION_STRING];
  int length = 0;
  MPI_Get_library_version(version, &length);
  while (length > 0 && (version[length - 1] == '\n' || version[length - 1] == '\0')) --length;
  return Napi::String::New(info.Env(), version, static_cast<size_t>(length));
}

// init(): Promise<{ rank, size, provided, tagUpperBound, processorName }>. MPI_Init_thread
// runs on the progress thread, so a slow wire-up under mpiexec does not block JavaScript.
Napi::Value Init(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AddonState& state = State(env);
  if (state.engine) throw Napi::Error(env, MakeError(env, "D4_INTERNAL", "@d4/mpi: the addon's init() was called twice"));
  // MPI is initialised once per process; another thread (a worker) may have loaded the addon.
  static std::atomic<bool> initialisedInProcess{false};
  if (initialisedInProcess.exchange(true))
    throw Napi::Error(env, MakeError(env, "D4_MPI_ARGUMENT", "MPI was already initialized by another thread of this process; initialize MPI in one thread (the main one or a single worker) per process"));
  state.engine = std::make_unique<Engine>(env);
  Op* op = new Op(Op::Kind::Init, env);
  Napi::Promise promise = op->deferred.Promise();
  state.engine->Start(op);
  return promise;
}

Napi::Value Finalize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Engine* engine = RunningEngine(env);
  Op* op = new Op(Op::Kind::Finalize, env);
  Napi::Promise promise = op->deferred.Promise();
  engine->Finalize(op);
  return promise;
}

Napi::Value Abort(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RunningEngine(env);
  MPI_Abort(MPI_COMM_WORLD, info[0].As<Napi::Number>().Int32Value());
  return env.Undefined();  // not reached: MPI_Abort ends every rank
}

// send(bytes, dest, tag): undefined when the send completed on the JavaScript thread
// (small messages at once; larger ones within the send spin budget), else a promise.
Napi::Value Send(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RunningEngine(env);
  int64_t posted = Now();
  int dest = info[1].As<Napi::Number>().Int32Value();
  int tag = info[2].As<Napi::Number>().Int32Value();
  Bytes bytes = BytesOf(info[0]);
  MPI_Request request = MPI_REQUEST_NULL;
  ThrowIfFailed(env, MPI_Isend(bytes.data, static_cast<int>(bytes.length), MPI_BYTE, dest, tag, MPI_COMM_WORLD, &request), "MPI_Isend");
  return SendHere(env, request, posted, bytes.length, info[0]);
}

// recv(source, tag, values): a Buffer when the message was received on this thread (its
// source and tag then in `status`), else a promise of { data: Buffer, source, tag };
// `values` when the message may be a header announcing its payload (engine.h). Matched on
// this thread when it can be (receive.cc), else on the progress thread.
Napi::Value Recv(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Engine* engine = RunningEngine(env);
  ReceiveCall call{info[0].As<Napi::Number>().Int32Value(), info[1].As<Napi::Number>().Int32Value(), info[2].ToBoolean().Value(), Now()};
  return ReceiveHere(env, engine, call, State(env).status);
}

void Cleanup(Napi::Env, AddonState* state) {
  if (state->engine) state->engine->StopAtExit();
  delete state;
}

}  // namespace

Napi::Object Module(Napi::Env env, Napi::Object exports) {
  AddonState* state = new AddonState();
  env.SetInstanceData<AddonState, Cleanup>(state);
  // Where recv() leaves a received message's source and tag: read by JavaScript right
  // after the call, so that a receive completed here returns the bare Buffer. An
  // ArrayBuffer's memory never moves.
  Napi::ArrayBuffer statusMemory = Napi::ArrayBuffer::New(env, 2 * sizeof(int32_t));
  state->status = static_cast<int32_t*>(statusMemory.Data());
  Napi::Int32Array status = Napi::Int32Array::New(env, 2, statusMemory, 0);
  state->statusArray = Napi::Persistent(status);
  exports.Set("status", status);
  exports.Set("configure", Napi::Function::New(env, Configure));
  exports.Set("libraryVersion", Napi::Function::New(env, LibraryVersion));
  exports.Set("init", Napi::Function::New(env, Init));
  exports.Set("finalize", Napi::Function::New(env, Finalize));
  exports.Set("abort", Napi::Function::New(env, Abort));
  exports.Set("send", Napi::Function::New(env, Send));
  exports.Set("recv", Napi::Function::New(env, Recv));
  exports.Set("trace", Napi::Function::New(env, TakeTrace));
  exports.Set("counters", Napi::Function::New(env, TakeCounters));
  exports.Set("anySource", Napi::Number::New(env, MPI_ANY_SOURCE));
  exports.Set("anyTag", Napi::Number::New(env, MPI_ANY_TAG));
  InitCollectives(env, exports);
  return exports;
}

}  // namespace d4mpi

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return d4mpi::Module(env, exports); }

NODE_API_MODULE(d4_mpi, InitAddon)
