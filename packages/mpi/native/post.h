// Helpers shared by the bindings: reading byte views out of JavaScript values and handing
// a posted MPI request to the progress thread.
#pragma once

#include <napi.h>
#include <mpi.h>

#include <initializer_list>

#include "settle.h"

namespace d4mpi {

struct Bytes {
  void* data = nullptr;
  size_t length = 0;  // in bytes
};

// The bytes a typed array (or Buffer) views, without copying them. Throws a TypeError for
// anything else: the TypeScript layer has already checked, so this is a safety net.
Bytes BytesOf(const Napi::Value& value);

// Engine of a started MPI, or a thrown D4_MPI_NOT_INITIALIZED / D4_MPI_FINALIZED error.
Engine* RunningEngine(Napi::Env env);

// Tests `request` once; if done, returns a resolved promise, else gives it to the progress
// thread, keeping `pins` (the buffers MPI reads or writes) alive until it completes.
Napi::Value Post(Napi::Env env, MPI_Request request, const char* where, std::initializer_list<Napi::Value> pins);

// A send MPI_Isend posted at `posted` (ns, Now()): tests it until it completes or the send
// spin budget is spent (at once for messages over kInlineBytes). Done, it returns undefined
// (the hot path makes no promise); else a promise, the progress thread finishing the send
// while `pin` (the bytes) is kept alive.
Napi::Value SendHere(Napi::Env env, MPI_Request request, int64_t posted, size_t length, const Napi::Value& pin);

// Throws a D4_MPI_ERROR for a failed MPI call made on the JavaScript thread.
void ThrowIfFailed(Napi::Env env, int rc, const char* where);

void InitCollectives(Napi::Env env, Napi::Object exports);

}  // namespace d4mpi
