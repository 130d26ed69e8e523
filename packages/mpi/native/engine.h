// The progress engine: one thread of the addon's own that initialises MPI, drives every
// pending request and receive, and finalises MPI. JavaScript never waits on MPI itself and
// libuv's thread pool is never used, so fs and dns keep their workers however many
// receives are pending.
#pragma once

#include <mpi.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <napi.h>

#include "spin.h"
#include "trace.h"

namespace d4mpi {

// One operation that JavaScript waits for. Created and destroyed on the JavaScript thread;
// between submit() and its completion only the progress thread touches its MPI fields.
struct Op {
  enum class Kind { Init, Request, Send, Receive, Finalize };
  Kind kind;
  explicit Op(Kind k, Napi::Env env) : kind(k), deferred(Napi::Promise::Deferred::New(env)) {}
  ~Op();

  // Request, Send: the MPI request to drive (a collective, a send); Receive: the
  // MPI_Imrecv of a message already matched, when the progress thread is to finish it.
  MPI_Request request = MPI_REQUEST_NULL;
  // Receive: the pattern to match, then what arrived (malloc'd, handed to a Buffer).
  int source = MPI_ANY_SOURCE;
  int tag = MPI_ANY_TAG;
  char* data = nullptr;
  size_t size = 0;
  // Receive of a value (recv(), not recvBytes()): an 8-byte header whose second byte is 1
  // announces that the payload follows as the next message from the same source with the
  // same tag (pack.ts), so large payloads go contiguous and single-copy. The payload is
  // received behind the header, so JavaScript sees one message either way.
  bool values = false;
  bool continuation = false;  // the header is in `header`; the payload is awaited
  char header[8] = {};
  // Receive: a message the JavaScript thread matched but leaves to the progress thread to
  // receive (over kInlineBytes); `source` and `tag` are then what matched.
  MPI_Message message = MPI_MESSAGE_NULL;
  int count = 0;
  // Any kind: an MPI error code (MPI_SUCCESS when it went well) and where it happened.
  int error = MPI_SUCCESS;
  const char* where = "";
  bool cancelled = false;  // a receive still pending when MPI was finalised
  Stamps stamps;           // when it reached each stage: the spin policies learn from them

  // JavaScript thread only.
  Napi::Promise::Deferred deferred;
  std::vector<Napi::Reference<Napi::Value>> pins;  // buffers MPI reads or writes until done
  // Receive: the Buffer the JavaScript thread began receiving into (its MPI_Imrecv did not
  // finish within the hold limit): it resolves with that, not with `data`.
  Napi::Reference<Napi::Value> target;
};

// What MPI_Init_thread gave, read by JavaScript once init's promise resolves.
struct WorldInfo {
  int rank = 0;
  int size = 1;
  int provided = 0;
  int tagUpperBound = 32767;
  int localSize = 0;  // ranks on this host; 0 when not measured (D4_MPI_SPIN set)
  std::string processorName;
};

class Engine {
 public:
  explicit Engine(Napi::Env env);
  ~Engine();

  // JavaScript thread: starts the thread, which calls MPI_Init_thread and resolves `op`.
  void Start(Op* op);
  // JavaScript thread: hands an op to the progress thread.
  void Submit(Op* op);
  // JavaScript thread: finishes an op at once (it completed without waiting).
  void Settle(Napi::Env env, Op* op);
  // JavaScript thread: ends the thread after finalising MPI (`op` resolves after).
  void Finalize(Op* op);
  // JavaScript thread, at exit: stops the thread without finalising (mpiexec then sees the
  // rank end, as it would a crash, instead of this process hanging in MPI_Finalize).
  void StopAtExit();

  bool started() const { return started_; }
  // JavaScript thread: receives handed to the progress thread and not yet settled. With
  // none, a new receive may be matched on the JavaScript thread at once (no thread hop),
  // since no earlier receive can be owed the message.
  bool HasPendingReceives() const { return pendingReceives_ > 0; }
  // JavaScript thread: how long its receives and sends may wait on MPI themselves.
  SpinPolicy& receiveSpin() { return receiveSpin_; }
  SpinPolicy& sendSpin() { return sendSpin_; }
  const WorldInfo& world() const { return world_; }

 private:
  void Run(Op* initOp);
  void DecideSpinning();
  void Loop();
  bool DriveRequests();
  bool DriveReceives();
  bool ReceiveHandedOver();
  void Complete(Op* op);
  void Deliver();
  void Drain(Napi::Env env);
  void Track(Napi::Env env, int delta);

  Napi::ThreadSafeFunction tsfn_;
  std::thread thread_;
  bool started_ = false;
  bool joined_ = false;
  WorldInfo world_;
  size_t inFlight_ = 0;  // JavaScript thread: ops not yet settled (keep the loop alive)
  size_t pendingReceives_ = 0;  // JavaScript thread
  SpinPolicy receiveSpin_;      // JavaScript thread
  SpinPolicy sendSpin_;         // JavaScript thread

  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<Op*> inbox_;   // guarded: submitted, not yet seen by the thread
  std::vector<Op*> outbox_;  // guarded: completed, not yet settled in JavaScript
  bool notified_ = false;    // guarded: a drain is already scheduled
  bool stop_ = false;        // guarded: leave without finalising
  Op* finalizeOp_ = nullptr; // guarded: leave after finalising

  // Progress thread only.
  std::vector<Op*> requests_;
  std::deque<Op*> receives_;
  std::vector<Op*> matched_;  // matched on the JavaScript thread, to receive here
  std::vector<Op*> completed_;
};

enum class Matched { Done, Header, Posted };

// Receives a message that MPI_Improbe matched (`count` bytes from `source` with `tag`)
// into op, behind the header when op is a continuation. Up to 8 bytes (always sent eagerly,
// so all here) at once with MPI_Mrecv; larger ones with MPI_Imrecv. Done: op holds the
// message or its error. Header: it announced a payload, so op is now a continuation that
// waits for it from op->source with op->tag, ahead of every other receive. Posted:
// op->request, once complete, completes the receive.
Matched ReceiveMatched(Op* op, MPI_Message* message, int count, int source, int tag);

// What a receive asks for (recv()'s arguments) and when it was called.
struct ReceiveCall {
  int source;
  int tag;
  bool values;
  int64_t posted;
};

// JavaScript thread: receives the call's message at once when it is here, or waits for it
// within the receive spin budget (receive.cc). Done, it returns the Buffer holding the
// message, its source and tag in `status` (no promise, no result object); else it hands
// the receive to the progress thread and returns a promise of { data, source, tag }.
Napi::Value ReceiveHere(Napi::Env env, Engine* engine, const ReceiveCall& call, int32_t* status);

// "MPI_Isend: MPI_ERR_RANK: invalid rank" from an MPI error code.
std::string DescribeMpiError(int code, const char* where);

}  // namespace d4mpi
