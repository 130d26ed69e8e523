// Settling ops on the JavaScript thread: resolving their promises with what MPI produced,
// or rejecting them with a D4Error made by the JavaScript side (so the codes live in one
// table, @d4/core's error-codes.ts).
#pragma once

#include <napi.h>

#include <memory>
#include <string>

#include "engine.h"

namespace d4mpi {

// Per-environment state of the addon (one per Node.js thread that loads it).
struct AddonState {
  std::unique_ptr<Engine> engine;
  Napi::FunctionReference makeError;  // (code, message, mpiErrorClass?) => D4Error
  bool ready = false;      // MPI_Init_thread succeeded and JavaScript has been told
  bool finalized = false;
  int32_t* status = nullptr;  // recv()'s [source, tag] of a message received at once
  Napi::Reference<Napi::Int32Array> statusArray;
};

AddonState& State(Napi::Env env);

// A D4Error from the JavaScript factory; a plain Error when none was configured.
Napi::Value MakeError(Napi::Env env, const char* code, const std::string& message, int mpiError = 0);

// A Buffer over `size` bytes that MPI wrote into malloc'd memory: no copy; freed when the
// Buffer is collected. V8 is told of the memory so that large messages drive the GC.
Napi::Buffer<char> OwningBuffer(Napi::Env env, char* data, size_t size);

// Resolves or rejects op->deferred.
void SettleOp(Napi::Env env, Op* op);

}  // namespace d4mpi
