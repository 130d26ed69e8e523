// Receiving a matched message (either thread), and the JavaScript thread's own receive:
// a message already here, or arriving within the spin budget, is taken without waking the
// progress thread or the event loop.
#include <cstdlib>
#include <cstring>

#include "engine.h"

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

void ReceiveHere(Napi::Env env, Engine* engine, Op* op) {
  // With a receive pending on the progress thread, the next message may be owed to it.
  if (engine->HasPendingReceives()) return engine->Submit(op);
  SpinPolicy& spin = engine->receiveSpin();
  int64_t start = op->stamps.posted;
  int64_t budget = spin.NextBudget();
  int64_t spinUntil = start + budget;        // for the message to arrive
  int64_t holdUntil = start + kHoldLimitNs;  // for the rest: a payload, a transfer
  SpinWait wait(start);
  for (;;) {
    int flag = 0;
    MPI_Message message;
    MPI_Status status;
    int rc = MPI_Improbe(op->source, op->tag, MPI_COMM_WORLD, &flag, &message, &status);
    if (rc != MPI_SUCCESS) {
      op->error = rc;
      op->where = "MPI_Improbe";
      break;
    }
    if (!flag) {
      // MPI_Improbe drives MPI's progress itself: nothing else to call between probes.
      if (wait.Again(op->continuation ? holdUntil : spinUntil)) continue;
      if (!op->continuation && budget > 0) spin.Missed();
      return engine->Submit(op);  // a continuation goes first in the thread's line
    }
    int count = 0;
    MPI_Get_count(&status, MPI_BYTE, &count);
    if (static_cast<size_t>(count) > kInlineBytes) {
      // Receiving it here would hold the event loop for the whole copy: matched, it is
      // this op's alone, and the progress thread receives it.
      if (op->stamps.matched == 0) op->stamps.matched = Now();
      op->message = message;
      op->count = count;
      op->source = status.MPI_SOURCE;
      op->tag = status.MPI_TAG;
      return engine->Submit(op);
    }
    Matched matched = ReceiveMatched(op, &message, count, status.MPI_SOURCE, status.MPI_TAG);
    if (matched == Matched::Header) continue;  // its payload comes right behind it
    if (matched == Matched::Posted) {
      int done = 0;
      for (;;) {
        op->error = MPI_Test(&op->request, &done, MPI_STATUS_IGNORE);
        if (op->error != MPI_SUCCESS) {
          op->where = "MPI_Test";
          break;
        }
        if (done) break;
        if (!wait.Again(holdUntil)) return engine->Submit(op);
      }
    }
    break;
  }
  spin.Caught();
  if (op->stamps.matched != 0) spin.Waited(op->stamps.matched - start);
  engine->Settle(env, op);
}

}  // namespace d4mpi
