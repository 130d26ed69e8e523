#include "trace.h"

#include <cstdlib>
#include <ctime>
#include <vector>

namespace d4mpi {

namespace {

constexpr size_t kFields = 6;
// At most this many receives are kept between two trace() calls: a forgotten trace
// must not grow without bound.
constexpr size_t kMaxRecords = 1 << 20;

std::vector<double>& Records() {
  static std::vector<double> records;
  return records;
}

}  // namespace

int64_t Now() {
  timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<int64_t>(now.tv_sec) * 1000000000 + now.tv_nsec;
}

bool Tracing() {
  static const bool on = [] {
    const char* value = std::getenv("D4_MPI_TRACE");
    return value != nullptr && value[0] != '\0' && value[0] != '0';
  }();
  return on;
}

void RecordTrace(const Stamps& stamps) {
  std::vector<double>& records = Records();
  if (records.size() >= kMaxRecords * kFields) return;
  double settled = static_cast<double>(Now());
  records.insert(records.end(), {static_cast<double>(stamps.posted), static_cast<double>(stamps.matched), static_cast<double>(stamps.queued),
                                 static_cast<double>(stamps.drained), settled, stamps.threaded ? 1.0 : 0.0});
}

Napi::Value TakeTrace(const Napi::CallbackInfo& info) {
  std::vector<double>& records = Records();
  Napi::Float64Array out = Napi::Float64Array::New(info.Env(), records.size());
  for (size_t i = 0; i < records.size(); i++) out[i] = records[i];
  records.clear();
  return out;
}

}  // namespace d4mpi
