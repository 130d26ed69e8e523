// Counts of how receives and sends ended and how often the progress thread gave its core
// away, to see where a round trip's time goes (issue 13): read with the addon's counters()
// (bench mpi-pingpong.ts --trace prints them). Each is a plain increment on one thread.
#pragma once

#include <napi.h>

#include <atomic>
#include <cstdint>

namespace d4mpi {

enum Counter {
  kRecvAtOnce,         // matched and received at the first probe, on the JavaScript thread
  kRecvCaught,         // matched after spinning, received on the JavaScript thread
  kRecvHandedOver,     // the spin ran out (or was not allowed): the progress thread matched it
  kRecvBehindPending,  // another receive was pending on the progress thread: no spin at all
  kRecvLargeHandedOver,  // matched on the JavaScript thread, over 128 KB: received there
  kRecvTransferHandedOver,  // its transfer did not finish within the hold limit
  kSendAtOnce,         // MPI_Isend complete at the first MPI_Test
  kSendCaught,         // complete after spinning
  kSendHandedOver,     // left to the progress thread
  kCounterCount
};

// JavaScript thread only (plain increments).
extern uint64_t jsCounters[kCounterCount];
inline void Count(Counter counter) { ++jsCounters[counter]; }
// Progress thread: its sched_yield calls while polling.
extern std::atomic<uint64_t> threadYields;

// counters(): { recvAtOnce, …, sendHandedOver, progressThreadYields }, counted since the addon loaded.
Napi::Value TakeCounters(const Napi::CallbackInfo& info);

}  // namespace d4mpi
