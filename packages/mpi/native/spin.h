// How long the JavaScript thread may wait on MPI itself before it hands a wait to the
// progress thread. Waiting here saves the two thread hops of the threaded path (waking the
// progress thread, then waking the event loop through a thread-safe function: ~45 us of a
// 64 B hop on a busy machine, bench/src/mpi-pingpong.ts --trace), but holds the event
// loop, so every wait here is bounded and adaptive.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace d4mpi {

// The longest one call waits on the JavaScript thread for a message to arrive, a matched
// message to finish arriving, or a send to complete, taken together. Copying a message of
// up to kInlineBytes comes on top (a few us).
constexpr int64_t kHoldLimitNs = 100000;  // 100 us
// Larger messages are received and waited for on the progress thread only: with shared
// memory, MPI copies a matched message within the call that receives it (CMA), and 64 MB
// would hold the event loop for milliseconds.
constexpr size_t kInlineBytes = 128 * 1024;

// Adaptive spin-then-hand-over. A wait spins only while a message is likely soon: after
// this rank sent (a reply may be on its way), or while its messages keep coming within
// kIdleNs (a stream); an idle rank never spins. Waits that keep outlasting twice the hold
// limit (replies that take longer than a spin can cover) stop the spinning for 1, 2, 4, …
// up to kMaxSkip waits, each trying again after, so a rank whose replies come late wastes
// little, and one whose replies speed up spins again. Twice the limit, because when both
// ranks of a ping-pong hand their waits over, each reply is late by the peer's own thread
// hops (~110 us on a loaded machine, against 65 us a hop): judged by the limit alone, or
// with a budget that shrank and grew step by step, both ranks stopped spinning for good.
constexpr int64_t kIdleNs = 1000000;  // 1 ms
constexpr int kMissesBeforeSkip = 8;
constexpr int kMaxSkip = 256;

class SpinPolicy {
 public:
  // How long the wait about to start may spin, in ns (0: probe once, then hand over).
  int64_t NextBudget() {
    if (!likely_) return 0;
    if (skip_ > 0) {
      --skip_;
      return 0;
    }
    return kHoldLimitNs;
  }
  void Sent() { likely_ = true; }
  // A wait of `waited` ns ended (on either thread).
  void Waited(int64_t waited) {
    likely_ = waited < kIdleNs;
    if (waited <= 2 * kHoldLimitNs) {
      misses_ = 0;
      nextSkip_ = 1;
    } else if (++misses_ >= kMissesBeforeSkip) {
      misses_ = 0;
      skip_ = nextSkip_;
      nextSkip_ = std::min(nextSkip_ * 2, kMaxSkip);
    }
  }

 private:
  bool likely_ = true;
  int misses_ = 0;    // waits in a row over twice the limit
  int skip_ = 0;      // waits still to make without spinning
  int nextSkip_ = 1;
};

}  // namespace d4mpi
