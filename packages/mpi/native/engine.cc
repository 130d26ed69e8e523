#include "engine.h"

#include <sched.h>

#include <cstdlib>
#include <cstring>

#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "counters.h"
#include "settle.h"

namespace d4mpi {

namespace {

using Clock = std::chrono::steady_clock;

// After the last completion the thread keeps polling for kSpinWindow: a reply in a
// ping-pong or the next frame of a stream usually comes within it, and a sleep would add
// a wake-up (up to the current back-off) to every message. Past kPureSpin it yields the
// core between polls, so that on a busy machine the ranks' own JavaScript threads run.
// Past the window, sleeps double from kFirstSleep to kLongestSleep, so an idle rank with
// receives pending costs at most ~1000 polls a second, and one with nothing pending sleeps
// on the condition variable until JavaScript submits something.
constexpr auto kPureSpin = std::chrono::microseconds(20);
constexpr auto kSpinWindow = std::chrono::microseconds(1000);
// While a send or a collective is in flight, MPI moves its data only when polled (a 64 MB
// message is thousands of fragments, each needing a poll on both sides), so the thread
// polls without sleeping for longer: a request that waits for a receiver that never comes
// still lets it back off after this.
constexpr auto kBusyWindow = std::chrono::microseconds(10000);
constexpr auto kFirstSleep = std::chrono::microseconds(1);
constexpr auto kLongestSleep = std::chrono::microseconds(1000);

struct Pattern {
  int source;
  int tag;
};

}  // namespace

Op::~Op() { std::free(data); }

std::string DescribeMpiError(int code, const char* where) {
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  if (MPI_Error_string(code, text, &length) != MPI_SUCCESS) {
    std::snprintf(text, sizeof text, "MPI error code %d", code);
    length = static_cast<int>(std::strlen(text));
  }
  return std::string(where) + ": " + std::string(text, static_cast<size_t>(length));
}

Engine::Engine(Napi::Env env) {
  // The JavaScript function is never called: completions run in the callback given to
  // each NonBlockingCall, which drains every op completed since the last one.
  tsfn_ = Napi::ThreadSafeFunction::New(env, Napi::Function::New(env, [](const Napi::CallbackInfo&) {}), "d4-mpi-progress", 0, 1);
  tsfn_.Unref(env);
}

Engine::~Engine() { StopAtExit(); }

void Engine::Track(Napi::Env env, int delta) {
  // A pending op keeps the event loop alive, like a pending socket read; with none, the
  // thread-safe function is unref'd so that a script can end.
  if (delta > 0 && inFlight_++ == 0) tsfn_.Ref(env);
  if (delta < 0 && --inFlight_ == 0) tsfn_.Unref(env);
}

void Engine::Start(Op* op) {
  started_ = true;
  Track(op->deferred.Env(), +1);
  thread_ = std::thread([this, op] { Run(op); });
}

void Engine::Submit(Op* op) {
  Track(op->deferred.Env(), +1);
  if (op->kind == Op::Kind::Receive) ++pendingReceives_;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    inbox_.push_back(op);
  }
  wake_.notify_one();
}

void Engine::Settle(Napi::Env env, Op* op) {
  SettleOp(env, op);
  delete op;
}

void Engine::Finalize(Op* op) {
  Track(op->deferred.Env(), +1);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    finalizeOp_ = op;
  }
  wake_.notify_one();
}

void Engine::StopAtExit() {
  if (!started_ || joined_) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_one();
  // The loop makes only non-blocking MPI calls, so it sees stop_ within one sleep.
  if (thread_.joinable()) thread_.join();
  joined_ = true;
}

void Engine::Run(Op* initOp) {
#ifdef __linux__
  // Linux's default timer slack (50 us) would turn every short back-off sleep into 50 us.
  prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
#endif
  // MPI's "main thread" is this one: it initialises and finalises MPI (the standard wants
  // both on one thread), while JavaScript's thread posts sends and collectives directly,
  // hence MPI_THREAD_MULTIPLE.
  int provided = 0;
  int rc = MPI_Init_thread(nullptr, nullptr, MPI_THREAD_MULTIPLE, &provided);
  world_.provided = provided;
  if (rc == MPI_SUCCESS) {
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &world_.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &world_.size);
    int* tagUb = nullptr;
    int flag = 0;
    MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_TAG_UB, &tagUb, &flag);
    if (flag && tagUb) world_.tagUpperBound = *tagUb;
    char name[MPI_MAX_PROCESSOR_NAME];
    int length = 0;
    MPI_Get_processor_name(name, &length);
    world_.processorName.assign(name, static_cast<size_t>(length));
    DecideSpinning();
  } else {
    initOp->error = rc;
    initOp->where = "MPI_Init_thread";
  }
  bool usable = rc == MPI_SUCCESS && provided >= MPI_THREAD_MULTIPLE;
  // Without MPI_THREAD_MULTIPLE the JavaScript thread may not call MPI beside this one:
  // MPI is finalised again and init fails (settle.cc says what to do).
  if (rc == MPI_SUCCESS && !usable) MPI_Finalize();
  completed_.push_back(initOp);
  Deliver();
  if (usable) Loop();
}

// After MPI_Init, on the progress thread, before init resolves: whether the JavaScript
// thread's waits may spin (spin.h). Ranks on this host: MPI's shared-memory split, the
// same on every MPI; cores: those this process may run on.
void Engine::DecideSpinning() {
  const char* setting = std::getenv("D4_MPI_SPIN");
  bool off = setting && std::strcmp(setting, "off") == 0;
  bool on = setting && std::strcmp(setting, "on") == 0;
  if (!on && !off) {
    MPI_Comm local = MPI_COMM_NULL;
    int localSize = 1;
    if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &local) == MPI_SUCCESS) {
      MPI_Comm_size(local, &localSize);
      MPI_Comm_free(&local);
    }
    cpu_set_t set;
    int cores = sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : static_cast<int>(std::thread::hardware_concurrency());
    world_.localSize = localSize;
    off = cores > 0 && localSize > cores;
  }
  if (off) {
    receiveSpin_.Disable();
    sendSpin_.Disable();
  }
}

void Engine::Loop() {
  auto lastActivity = Clock::now();
  auto sleep = kFirstSleep;
  Op* finalizeOp = nullptr;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      if (inbox_.empty() && requests_.empty() && receives_.empty() && matched_.empty() && !stop_ && !finalizeOp_) {
        wake_.wait(lock, [this] { return !inbox_.empty() || stop_ || finalizeOp_; });
        lastActivity = Clock::now();
      }
      for (Op* op : inbox_) {
        if (op->kind != Op::Kind::Receive || op->request != MPI_REQUEST_NULL) requests_.push_back(op);
        else if (op->message != MPI_MESSAGE_NULL) matched_.push_back(op);
        else if (op->continuation) receives_.push_front(op);  // its payload is owed to it
        else receives_.push_back(op);
      }
      inbox_.clear();
      if (stop_) return;
      finalizeOp = finalizeOp_;
    }
    if (finalizeOp) {
      // Receives still pending can never be matched now: they fail in JavaScript. Sends and
      // collectives already posted are driven to the end, as MPI_Finalize requires.
      for (Op* op : receives_) {
        op->cancelled = true;
        completed_.push_back(op);
      }
      receives_.clear();
      // Matched messages are owed to their ops: they are received first.
      if (requests_.empty() && matched_.empty()) break;
    }
    bool progressed = ReceiveHandedOver();
    progressed = DriveRequests() || progressed;
    progressed = DriveReceives() || progressed;
    Deliver();
    if (progressed) {
      lastActivity = Clock::now();
      sleep = kFirstSleep;
      continue;
    }
    auto quiet = Clock::now() - lastActivity;
    if (quiet < (requests_.empty() ? kSpinWindow : kBusyWindow)) {
      if (quiet > kPureSpin) {
        threadYields.fetch_add(1, std::memory_order_relaxed);
        std::this_thread::yield();
      }
      continue;
    }
    std::unique_lock<std::mutex> lock(mutex_);
    wake_.wait_for(lock, sleep, [this] { return !inbox_.empty() || stop_ || finalizeOp_; });
    if (sleep < kLongestSleep) sleep *= 2;
  }
  int rc = MPI_Finalize();
  if (rc != MPI_SUCCESS) {
    finalizeOp->error = rc;
    finalizeOp->where = "MPI_Finalize";
  }
  completed_.push_back(finalizeOp);
  Deliver();
}

bool Engine::DriveRequests() {
  bool progressed = false;
  for (size_t i = 0; i < requests_.size();) {
    Op* op = requests_[i];
    int flag = 0;
    int rc = MPI_Test(&op->request, &flag, MPI_STATUS_IGNORE);
    if (rc != MPI_SUCCESS) {
      op->error = rc;
      op->where = op->where[0] ? op->where : "MPI_Test";
    }
    if (flag || rc != MPI_SUCCESS) {
      op->stamps.threaded = true;
      completed_.push_back(op);
      requests_[i] = requests_.back();
      requests_.pop_back();
      progressed = true;
    } else {
      ++i;
    }
  }
  return progressed;
}

bool Engine::ReceiveHandedOver() {
  // Messages the JavaScript thread matched but left to this thread (too large to copy
  // there): each is already this op's, so only the transfer remains.
  bool progressed = !matched_.empty();
  for (Op* op : matched_) {
    MPI_Message message = op->message;
    op->message = MPI_MESSAGE_NULL;
    if (ReceiveMatched(op, &message, op->count, op->source, op->tag) == Matched::Posted) {
      requests_.push_back(op);
    } else {
      op->stamps.threaded = true;
      completed_.push_back(op);
    }
  }
  matched_.clear();
  return progressed;
}

bool Engine::DriveReceives() {
  // Receives are matched in the order JavaScript posted them, as MPI matches posted
  // receives. A pattern whose probe found nothing is not probed again in this pass, so a
  // thousand pending any-source receives cost one probe, not a thousand.
  bool progressed = false;
  std::vector<Pattern> empty;
  for (auto it = receives_.begin(); it != receives_.end();) {
    Op* op = *it;
    bool known = false;
    for (const Pattern& p : empty) {
      if ((p.source == MPI_ANY_SOURCE || p.source == op->source) && (p.tag == MPI_ANY_TAG || p.tag == op->tag)) {
        known = true;
        break;
      }
    }
    if (known) {
      ++it;
      continue;
    }
    int flag = 0;
    MPI_Message message;
    MPI_Status status;
    int rc = MPI_Improbe(op->source, op->tag, MPI_COMM_WORLD, &flag, &message, &status);
    if (rc == MPI_SUCCESS && !flag) {
      empty.push_back({op->source, op->tag});
      ++it;
      continue;
    }
    if (rc == MPI_SUCCESS) {
      // The message may have arrived after an earlier receive that matches it too was
      // probed in this pass: it belongs to the earliest one, as MPI would match it.
      for (auto earlier = receives_.begin(); earlier != it; ++earlier) {
        Op* candidate = *earlier;
        if ((candidate->source == MPI_ANY_SOURCE || candidate->source == status.MPI_SOURCE) && (candidate->tag == MPI_ANY_TAG || candidate->tag == status.MPI_TAG)) {
          op = candidate;
          it = earlier;
          break;
        }
      }
      int count = 0;
      MPI_Get_count(&status, MPI_BYTE, &count);
      Matched matched = ReceiveMatched(op, &message, count, status.MPI_SOURCE, status.MPI_TAG);
      if (matched == Matched::Header) {
        // The op now waits for its payload, first in line.
        receives_.erase(it);
        receives_.push_front(op);
        it = receives_.begin();
        progressed = true;
        continue;
      }
      if (matched == Matched::Posted) {
        requests_.push_back(op);
        it = receives_.erase(it);
        progressed = true;
        continue;
      }
    } else {
      op->where = "MPI_Improbe";
      op->error = rc;
    }
    op->stamps.threaded = true;
    completed_.push_back(op);
    it = receives_.erase(it);
    progressed = true;
  }
  return progressed;
}

void Engine::Deliver() {
  if (completed_.empty()) return;
  int64_t queued = Now();
  for (Op* op : completed_) op->stamps.queued = queued;
  bool schedule = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    outbox_.insert(outbox_.end(), completed_.begin(), completed_.end());
    if (!notified_) schedule = notified_ = true;
  }
  completed_.clear();
  // One call settles everything completed until JavaScript runs it, so a burst of
  // messages costs one wake-up of the event loop.
  if (schedule) tsfn_.NonBlockingCall([this](Napi::Env env, Napi::Function) { Drain(env); });
}

void Engine::Drain(Napi::Env env) {
  std::vector<Op*> ready;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ready.swap(outbox_);
    notified_ = false;
  }
  int64_t drained = Now();
  for (Op* op : ready) {
    op->stamps.drained = drained;
    bool finalized = op->kind == Op::Kind::Finalize;
    if (op->kind == Op::Kind::Receive) {
      --pendingReceives_;
      if (op->stamps.matched != 0) receiveSpin_.Waited(op->stamps.matched - op->stamps.posted);
    }

    Settle(env, op);
    Track(env, -1);
    if (finalized && thread_.joinable()) {
      thread_.join();
      joined_ = true;
      tsfn_.Release();
    }
  }
}

}  // namespace d4mpi
