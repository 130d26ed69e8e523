#include "counters.h"

namespace d4mpi {

uint64_t jsCounters[kCounterCount] = {};
std::atomic<uint64_t> threadYields{0};

Napi::Value TakeCounters(const Napi::CallbackInfo& info) {
  static const char* const names[kCounterCount] = {"recvAtOnce", "recvCaught", "recvHandedOver", "recvBehindPending", "recvLargeHandedOver",
                                                   "recvTransferHandedOver", "sendAtOnce", "sendCaught", "sendHandedOver"};
  Napi::Object out = Napi::Object::New(info.Env());
  for (size_t i = 0; i < kCounterCount; i++) out.Set(names[i], static_cast<double>(jsCounters[i]));
  out.Set("progressThreadYields", static_cast<double>(threadYields.load(std::memory_order_relaxed)));
  return out;
}

}  // namespace d4mpi
