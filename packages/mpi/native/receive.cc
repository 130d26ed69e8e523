// Receiving a matched message (either thread), and the JavaScript thread's own receive:
// a message already here, or arriving within the spin budget, is taken without waking the
// progress thread or the event loop.
#include <cstdlib>
#include <cstring>

#include "counters.h"
#include "engine.h"
#include "settle.h"

namespace d4mpi {

Matched ReceiveMatched(Op* op, MPI_Message* message, int count, int source, int tag) {
  if (op->stamps.matched == 0) op->stamps.matched = Now();
  size_t offset = op->continuation ? sizeof op->header : 0;
  // malloc's alignment (16) lets JavaScript view the bytes as any typed array.
  op->data = static_cast<char*>(std::malloc(offset + (count > 0 ? static_cast<size_t>(count) : 1)));
  op->size = offset + static_cast<size_t>(count);
  op->source = source;
  op->tag = tag;
  if (op->continuation) {
    std::memcpy(op->data, op->header, sizeof op->header);
    op->continuation = false;
  }
  if (count > static_cast<int>(sizeof op->header)) {
    op->error = MPI_Imrecv(op->data + offset, count, MPI_BYTE, message, &op->request);
    if (op->error != MPI_SUCCESS) {
      op->where = "MPI_Imrecv";
      return Matched::Done;
    }
    return Matched::Posted;
  }
  op->error = MPI_Mrecv(op->data + offset, count, MPI_BYTE, message, MPI_STATUS_IGNORE);
  if (op->error != MPI_SUCCESS) {
    op->where = "MPI_Mrecv";
    return Matched::Done;
  }
  if (offset == 0 && op->values && count == sizeof op->header && op->data[1] == 1 && op->data[0] != 0) {
    std::memcpy(op->header, op->data, sizeof op->header);
    std::free(op->data);
    op->data = nullptr;
    op->size = 0;
    op->continuation = true;
    return Matched::Header;
  }
  return Matched::Done;
}

namespace {

// A receive the JavaScript thread hands to the progress thread: it then settles through a
// promise, like any op.
Napi::Value HandOver(Napi::Env env, Engine* engine, const ReceiveCall& call, Counter why, Op** made = nullptr) {
  Count(why);
  Op* op = new Op(Op::Kind::Receive, env);
  op->source = call.source;
  op->tag = call.tag;
  op->values = call.values;
  op->stamps.posted = call.posted;
  Napi::Promise promise = op->deferred.Promise();
  if (made) {
    *made = op;  // the caller fills in what was matched, then submits
    return promise;
  }
  engine->Submit(op);
  return promise;
}

void ThrowMpiError(Napi::Env env, int rc, const char* where) {
  throw Napi::Error(env, MakeError(env, "D4_MPI_ERROR", DescribeMpiError(rc, where), rc));
}

}  // namespace

Napi::Value ReceiveHere(Napi::Env env, Engine* engine, const ReceiveCall& call, int32_t* status) {
  // With a receive pending on the progress thread, the next message may be owed to it.
  if (engine->HasPendingReceives()) return HandOver(env, engine, call, kRecvBehindPending);
  SpinPolicy& spin = engine->receiveSpin();
  int64_t budget = spin.NextBudget();
  int64_t spinUntil = call.posted + budget;        // for the message to arrive
  int64_t holdUntil = call.posted + kHoldLimitNs;  // for the rest: a payload, a transfer
  SpinWait wait(call.posted);
  int source = call.source;
  int tag = call.tag;
  // A value's header announcing that its payload follows (pack.ts): the payload is then
  // awaited from the header's source with its tag, within the hold limit.
  bool continuation = false;
  char header[8];
  int64_t matched = 0;
  bool first = true;
  // A message received here, on the JavaScript thread: its source and tag for the caller,
  // and what the spin policy, the counters and the trace learn from it.
  auto caught = [&]() {
    status[0] = source;
    status[1] = tag;
    spin.Caught();
    spin.Waited(matched - call.posted);
    Count(first ? kRecvAtOnce : kRecvCaught);
    if (Tracing()) RecordTrace({call.posted, matched, 0, 0, false});
  };
  for (;; first = false) {
    int flag = 0;
    MPI_Message message;
    MPI_Status probed;
    int rc = MPI_Improbe(source, tag, MPI_COMM_WORLD, &flag, &message, &probed);
    if (rc != MPI_SUCCESS) ThrowMpiError(env, rc, "MPI_Improbe");
    if (!flag) {
      // MPI_Improbe drives MPI's progress itself: nothing else to call between probes.
      // A continuation waits for a payload over 4 KB (pack.ts): a large transfer.
      if (wait.Again(continuation ? holdUntil : spinUntil, continuation)) continue;
      if (!continuation && budget > 0) spin.Missed();
      if (!continuation) return HandOver(env, engine, call, kRecvHandedOver);
      Op* op = nullptr;
      Napi::Value promise = HandOver(env, engine, {source, tag, call.values, call.posted}, kRecvHandedOver, &op);
      std::memcpy(op->header, header, sizeof header);
      op->continuation = true;  // first in the progress thread's line
      op->stamps.matched = matched;
      engine->Submit(op);
      return promise;
    }
    if (matched == 0) matched = Now();
    int count = 0;
    MPI_Get_count(&probed, MPI_BYTE, &count);
    source = probed.MPI_SOURCE;
    tag = probed.MPI_TAG;
    if (static_cast<size_t>(count) > kInlineBytes) {
      // Receiving it here would hold the event loop for the whole copy: matched, it is
      // this receive's alone, and the progress thread receives it.
      Op* op = nullptr;
      Napi::Value promise = HandOver(env, engine, {source, tag, call.values, call.posted}, kRecvLargeHandedOver, &op);
      if (continuation) std::memcpy(op->header, header, sizeof header);
      op->continuation = continuation;
      op->message = message;
      op->count = count;
      op->stamps.matched = matched;
      engine->Submit(op);
      return promise;
    }
    if (!continuation && call.values && count == sizeof header) {
      rc = MPI_Mrecv(header, count, MPI_BYTE, &message, MPI_STATUS_IGNORE);
      if (rc != MPI_SUCCESS) ThrowMpiError(env, rc, "MPI_Mrecv");
      if (header[1] == 1 && header[0] != 0) {
        continuation = true;  // its payload comes right behind it
        continue;
      }
      // Eight bytes that announce nothing: the message itself.
      caught();
      return Napi::Buffer<char>::Copy(env, header, sizeof header);
    }
    // Small messages go straight into a Buffer that V8 allocates and owns: no copy, and no
    // finalizer to run when it is collected. Larger ones into malloc'd memory that
    // becomes an external Buffer, as on the progress thread: measured in turns, 64 KB
    // hops were slower received into V8's own Buffers (73-115 us against 48-56 us).
    size_t offset = continuation ? sizeof header : 0;
    size_t size = offset + static_cast<size_t>(count);
    bool owned = size <= kOwnedBytes;
    Napi::Buffer<char> buffer;
    char* data = nullptr;
    if (owned) {
      buffer = Napi::Buffer<char>::New(env, size);
      data = buffer.Data();
    } else {
      data = static_cast<char*>(std::malloc(size));  // 16-aligned, as pack.ts wants
    }
    if (continuation) std::memcpy(data, header, sizeof header);
    MPI_Request request = MPI_REQUEST_NULL;
    rc = MPI_Imrecv(data + offset, count, MPI_BYTE, &message, &request);
    if (rc != MPI_SUCCESS) {
      if (!owned) std::free(data);
      ThrowMpiError(env, rc, "MPI_Imrecv");
    }
    for (int done = 0;;) {
      rc = MPI_Test(&request, &done, MPI_STATUS_IGNORE);
      if (rc != MPI_SUCCESS) ThrowMpiError(env, rc, "MPI_Test");  // MPI owns `data` now
      if (done) break;
      if (wait.Again(holdUntil, !owned)) continue;
      // The transfer goes on on the progress thread, into the same memory.
      Op* op = nullptr;
      Napi::Value promise = HandOver(env, engine, {source, tag, call.values, call.posted}, kRecvTransferHandedOver, &op);
      op->request = request;
      if (owned) {
        op->target = Napi::Persistent(buffer.As<Napi::Value>());
      } else {
        op->data = data;
        op->size = size;
      }
      op->stamps.matched = matched;
      engine->Submit(op);
      return promise;
    }
    if (!owned) buffer = OwningBuffer(env, data, size);
    caught();
    return buffer;
  }
}

}  // namespace d4mpi
