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

namespace d4mpi {

// One operation that JavaScript waits for. Created and destroyed on the JavaScript thread;
// between submit() and its completion only the progress thread touches its MPI fields.
struct Op {
  enum class Kind { Init, Request, Receive, Finalize };
  Kind kind;
  explicit Op(Kind k, Napi::Env env) : kind(k), deferred(Napi::Promise::Deferred::New(env)) {}
  ~Op();

  // Request: the MPI request to drive (a send, a collective).
  MPI_Request request = MPI_REQUEST_NULL;
  // Receive: the pattern to match, then what arrived (malloc'd, handed to a Buffer).
  int source = MPI_ANY_SOURCE;
  int tag = MPI_ANY_TAG;
  char* data = nullptr;
  size_t size = 0;
  // Any kind: an MPI error code (MPI_SUCCESS when it went well) and where it happened.
  int error = MPI_SUCCESS;
  const char* where = "";
  bool cancelled = false;  // a receive still pending when MPI was finalised

  // JavaScript thread only.
  Napi::Promise::Deferred deferred;
  std::vector<Napi::Reference<Napi::Value>> pins;  // buffers MPI reads or writes until done
};

// What MPI_Init_thread gave, read by JavaScript once init's promise resolves.
struct WorldInfo {
  int rank = 0;
  int size = 1;
  int provided = 0;
  int tagUpperBound = 32767;
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
  const WorldInfo& world() const { return world_; }

 private:
  void Run(Op* initOp);
  void Loop();
  bool DriveRequests();
  bool DriveReceives();
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
  std::vector<Op*> completed_;
};

// "MPI_Isend: MPI_ERR_RANK: invalid rank" from an MPI error code.
std::string DescribeMpiError(int code, const char* where);

}  // namespace d4mpi
