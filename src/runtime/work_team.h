#pragma once
// The threads of one executable. A run's parallel work is a list of independent chunks; the
// calling thread claims chunks one at a time and so do the helpers, whoever is on a core. The
// caller never waits for a helper that has not started: a helper the kernel has descheduled (a
// busy host, more stage threads than cores) simply takes no chunk, and the caller does its share.
// The caller waits only for chunks a helper has already claimed. This is why a busy host costs a
// run about what it costs one thread, instead of a barrier wait per op (OpenMP's static split,
// where every op waits for every thread of the team to be scheduled and finish its fixed part).
//
// A helper that claimed a chunk and was then descheduled (a busy host) makes the caller wait for
// that chunk, up to a whole time slice of the kernel's. When that happens (the caller waited
// longer than its own share took, and more than kLate), the team runs the next jobs on the
// caller alone, the way one thread would, and then tries its helpers again; each late try doubles
// the solo stretch (up to kSoloMax jobs), an on-time one resets it. On an idle host helpers are
// never late and nothing changes.
//
// Helpers spin briefly for the next job (ops follow each other within microseconds), then sleep
// on a futex, so an idle executable costs no CPU. They start on the first run(), from the calling
// thread, so they inherit its scheduling settings (a pipeline stage's nice value).
#include <atomic>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace pipecut::runtime {

// A non-owning reference to a callable: no allocation, unlike std::function. The callable must
// outlive the reference.
template <typename Signature>
class FunctionRef;
template <typename... Args>
class FunctionRef<void(Args...)> {
 public:
  template <typename F>
  explicit FunctionRef(F& f)
      : object_(const_cast<void*>(static_cast<const void*>(&f))),
        call_([](void* o, Args... args) { (*static_cast<F*>(o))(args...); }) {}
  void operator()(Args... args) const { call_(object_, args...); }

 private:
  void* object_;
  void (*call_)(void*, Args...);
};

// A chunk index and the slot of the thread running it (0 for the caller, 1.. for helpers; a
// slot's buffers serve one chunk at a time).
using ChunkFn = FunctionRef<void(int64_t, int)>;

class WorkTeam {
 public:
  static constexpr int kMaxChunks = 0xffff;

  // `threads` counts the caller: threads - 1 helpers.
  explicit WorkTeam(int threads);
  ~WorkTeam();
  WorkTeam(const WorkTeam&) = delete;
  WorkTeam& operator=(const WorkTeam&) = delete;

  int threads() const { return threads_; }

  // Calls fn(i, slot) exactly once for every i in [0, chunks) (at most kMaxChunks), on this thread
  // and any free helper, and returns when every call has returned. One caller at a time; fn must
  // not call run() again. If calls throw, the first exception is rethrown here once all have ended.
  void run(int chunks, ChunkFn fn);

 private:
  void start_helpers();
  void helper_main(int slot, uint32_t seen);
  // Claims and runs chunks of the job in claim_ until none is left.
  void drain(int slot);
  void return_error();  // rethrows the job's first exception, if any

  // Job number (32 bits) | chunk count (16) | next chunk to claim (16), claimed by compare-and-
  // swap: a claim succeeds only while the job it read is still the current one.
  std::atomic<uint64_t> claim_{0};
  std::atomic<const ChunkFn*> fn_{nullptr};
  // Futex words are 32 bits; std::atomic::wait is not used, as libstdc++ 12's can miss a wake-up.
  std::atomic<uint32_t> unfinished_{0};     // chunks of the current job not yet returned
  std::atomic<uint32_t> wake_{0};           // bumped for every job and for stopping
  std::atomic<int> sleepers_{0};            // helpers asleep on wake_
  std::atomic<bool> caller_sleeps_{false};  // the caller is asleep on unfinished_
  std::atomic<bool> stop_{false};
  std::mutex error_mutex_;
  std::exception_ptr error_;  // the first exception of the current job
  uint32_t job_ = 0;
  int threads_;
  // Caller-only state of the late-helper back-off (see the top of this file).
  int solo_left_ = 0;     // jobs still to run on the caller alone
  int solo_stretch_ = 0;  // the next solo stretch, in jobs (0: none yet)
  std::vector<std::thread> helpers_;
};

}  // namespace pipecut::runtime
