// Timestamps of receives, to see where a round trip's time goes (issue 13): set
// D4_MPI_TRACE=1 and read them with the addon's trace() (bench/src/mpi-pingpong.ts
// --trace does). Off, each stamp costs one predictable branch.
#pragma once

#include <napi.h>

#include <cstdint>

namespace d4mpi {

// CLOCK_MONOTONIC in nanoseconds: the clock of process.hrtime, and the same in every
// process of the host, so a sender's stamp can be read against a receiver's.
int64_t Now();

// Whether D4_MPI_TRACE was set when the addon loaded.
bool Tracing();

// When a receive reached each stage (0: never did).
struct Stamps {
  int64_t posted = 0;   // recv() called
  int64_t matched = 0;  // its message found by MPI_Improbe (JavaScript or progress thread)
  int64_t queued = 0;   // completed, handed to the event loop (progress thread only)
  int64_t drained = 0;  // the event loop's callback began settling it
  bool threaded = false;
};

// Records a receive as it settles (JavaScript thread).
void RecordTrace(const Stamps& stamps);

// trace(): Float64Array of 6 numbers a receive, in settling order: posted, matched,
// queued, drained, settled (ns), and 1 when the progress thread matched it; then empties.
Napi::Value TakeTrace(const Napi::CallbackInfo& info);

}  // namespace d4mpi
