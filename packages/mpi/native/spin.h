// How long the JavaScript thread may wait on MPI itself before it hands a wait to the
// progress thread. Waiting here saves the two thread hops of the threaded path (waking the
// progress thread, then waking the event loop through a thread-safe function: ~45 us of a
// 64 B hop on a busy machine, bench/src/mpi-pingpong.ts --trace), but holds the event
// loop, so every wait here is bounded and adaptive.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <thread>

#include "trace.h"

namespace d4mpi {

// The longest one call waits on the JavaScript thread for a message to arrive, a matched
// message to finish arriving, or a send to complete, taken together. Copying a message of
// up to kInlineBytes comes on top (a few us).
constexpr int64_t kHoldLimitNs = 100000;  // 100 us
// Larger messages are received and waited for on the progress thread only: with shared
// memory, MPI copies a matched message within the call that receives it (CMA), and 64 MB
// would hold the event loop for milliseconds.
constexpr size_t kInlineBytes = 128 * 1024;
// Messages up to this size received on the JavaScript thread go into a Buffer V8 owns;
// larger ones into malloc'd memory behind an external Buffer (receive.cc says why).
constexpr size_t kOwnedBytes = 4096;

// Past this much spinning, a wait on a large transfer yields its core between polls.
constexpr int64_t kPureSpinNs = 5000;

// One bounded wait on the JavaScript thread: Again(until, large) says whether to poll once
// more. A wait for a message to arrive, or for a small one (up to kOwnedBytes, within
// MPI's eager limit) to finish, never yields: with Linux's scheduler (EEVDF, 6.6 and
// later) a sched_yield pushes the thread's deadline back by a whole slice, so any other
// runnable thread on that core, often an unrelated process, runs first while the reply
// sits in shared memory. A wait on a large send or receive (a rendezvous: the peer does
// the copy) yields after kPureSpinNs, since that peer may be queued behind this thread on
// the same core. In turns (bench/src/mpi-pingpong.ts --trace, load 7-10 on 2 cores), 64 B
// hop median: yielding after 5 us 7.3-20.8 us, never yielding 4.1-4.2 us; 64 KB hop:
// yielding 45-56 us, never yielding 111-118 us.
class SpinWait {
 public:
  explicit SpinWait(int64_t start) : start_(start) {}
  bool Again(int64_t until, bool large) {
    int64_t now = Now();
    if (now >= until) return false;
    if (large && now - start_ > kPureSpinNs) std::this_thread::yield();
    return true;
  }

 private:
  int64_t start_;
};

// Adaptive spin-then-hand-over. A wait spins only while a message is likely soon: after
// this rank sent (a reply may be on its way), or while its messages keep coming within
// kIdleNs of each wait; an idle rank never spins. Spins that run out without their message
// cost the core the peer may need (2 cores, busy: the C ping-pong itself then took 120-
// 2000 us a round trip), so misses count up and catches down; at kMissesBeforeSkip the
// next 1, 2, 4, ... up to kMaxSkip waits hand over at once, each series trying again
// after. A wait found at the first probe counts as a catch: spinning cost nothing.
constexpr int64_t kIdleNs = 1000000;  // 1 ms
constexpr int kMissesBeforeSkip = 8;
constexpr int kMaxSkip = 256;

class SpinPolicy {
 public:
  // Waits never spin, only probe once: set when this host runs more ranks than it has
  // cores (a rank that spins and yields there is descheduled for whole time slices of
  // the others: each send or probe call of the mpi mapping took 4-6 ms at -n 6 on 2
  // cores), or when D4_MPI_SPIN=off. D4_MPI_SPIN=on keeps spinning.
  void Disable() { disabled_ = true; }
  bool disabled() const { return disabled_; }
  // How long the wait about to start may spin, in ns (0: probe once, then hand over).
  int64_t NextBudget() {
    if (disabled_ || !likely_) return 0;
    if (skip_ > 0) {
      --skip_;
      return 0;
    }
    return kHoldLimitNs;
  }
  void Sent() { likely_ = true; }
  // The wait ended on this thread, within its budget.
  void Caught() {
    if (misses_ > 0) --misses_;
    if (++caughtInRow_ >= kMissesBeforeSkip) nextSkip_ = 1;
  }
  // The wait spun its whole budget and was handed over.
  void Missed() {
    caughtInRow_ = 0;
    if (++misses_ < kMissesBeforeSkip) return;
    misses_ = 0;
    skip_ = nextSkip_;
    nextSkip_ = std::min(nextSkip_ * 2, kMaxSkip);
  }
  // A wait of `waited` ns ended, on either thread.
  void Waited(int64_t waited) { likely_ = waited < kIdleNs; }

 private:
  bool disabled_ = false;
  bool likely_ = true;
  int misses_ = 0;
  int caughtInRow_ = 0;
  int skip_ = 0;  // waits still to make without spinning
  int nextSkip_ = 1;
};

}  // namespace d4mpi
