#include "runtime/work_team.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <utility>

#include "runtime/threading.h"

namespace pipecut::runtime {

namespace {

// How long a helper looks for the next job before it sleeps, and how long the caller looks for
// the last claimed chunk to finish before it sleeps. Ops follow each other within microseconds,
// so a short spin catches the next one without a futex round trip; past it, a spinning thread
// would only take a core from whoever else needs it.
constexpr std::chrono::microseconds kSpin{50};

// The late-helper back-off: a wait this long for a helper's chunk, and longer than the caller's own
// share of the job, means the helper was off its core; the caller then runs jobs alone for a
// stretch of kSoloMin jobs (a few ResNet inferences), doubled after every late try up to kSoloMax.
constexpr std::chrono::microseconds kLate{1000};
constexpr int kSoloMin = 64;
constexpr int kSoloMax = 4096;

void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#else
  std::this_thread::yield();
#endif
}

// Spins until pred() or kSpin has passed; returns pred().
template <typename Pred>
bool spin_until(Pred pred) {
  const auto deadline = std::chrono::steady_clock::now() + kSpin;
  for (int i = 1;; ++i) {
    if (pred()) return true;
    cpu_relax();
    if (i % 64 == 0 && std::chrono::steady_clock::now() > deadline) return pred();
  }
}

// Sleeps while `word` holds `expected` (it may also wake for no reason; callers check again).
void futex_wait(std::atomic<uint32_t>& word, uint32_t expected) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(&word), FUTEX_WAIT_PRIVATE, expected, nullptr,
          nullptr, 0);
}

void futex_wake_all(std::atomic<uint32_t>& word) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(&word), FUTEX_WAKE_PRIVATE, INT32_MAX, nullptr,
          nullptr, 0);
}

constexpr uint64_t count_of(uint64_t claim) {
  return (claim >> 16) & 0xffff;
}
constexpr uint64_t next_of(uint64_t claim) {
  return claim & 0xffff;
}

}  // namespace

WorkTeam::WorkTeam(int threads) : threads_(std::max(1, threads)) {}

WorkTeam::~WorkTeam() {
  stop_.store(true, std::memory_order_seq_cst);
  wake_.fetch_add(1, std::memory_order_seq_cst);
  futex_wake_all(wake_);
  for (std::thread& t : helpers_) t.join();
}

void WorkTeam::start_helpers() {
  helpers_.reserve(static_cast<size_t>(threads_ - 1));
  // A helper may first run after jobs (or the destructor) have bumped wake_: it starts from the
  // value before any of them, so it never sleeps through a bump it did not see.
  const uint32_t seen = wake_.load(std::memory_order_seq_cst);
  for (int i = 1; i < threads_; ++i) {
    helpers_.emplace_back([this, i, seen] { helper_main(i, seen); });
  }
}

void WorkTeam::helper_main(int slot, uint32_t seen) {
  set_openmp_threads(1);  // oneDNN called from a chunk runs on this thread alone
  for (;;) {
    if (!spin_until([&] { return wake_.load(std::memory_order_acquire) != seen; })) {
      // Announce the sleep before checking wake_ again (inside the futex call): run() bumps
      // wake_ before it reads sleepers_, so either it sees this sleeper or the futex sees the
      // new value and returns at once. Both sides are sequentially consistent.
      sleepers_.fetch_add(1, std::memory_order_seq_cst);
      while (wake_.load(std::memory_order_seq_cst) == seen) futex_wait(wake_, seen);
      sleepers_.fetch_sub(1, std::memory_order_seq_cst);
    }
    seen = wake_.load(std::memory_order_acquire);
    if (stop_.load(std::memory_order_acquire)) return;
    drain(slot);
  }
}

void WorkTeam::drain(int slot) {
  uint64_t claim = claim_.load(std::memory_order_acquire);
  for (;;) {
    if (next_of(claim) >= count_of(claim)) return;
    if (!claim_.compare_exchange_weak(claim, claim + 1, std::memory_order_acq_rel,
                                      std::memory_order_acquire)) {
      continue;  // another thread claimed, or a new job began: `claim` holds the new value
    }
    // The claim succeeded, so this job is not finished and fn_ is still its function.
    try {
      (*fn_.load(std::memory_order_acquire))(static_cast<int64_t>(next_of(claim)), slot);
    } catch (...) {
      const std::lock_guard<std::mutex> lock(error_mutex_);
      if (!error_) error_ = std::current_exception();
    }
    if (unfinished_.fetch_sub(1, std::memory_order_seq_cst) == 1 &&
        caller_sleeps_.load(std::memory_order_seq_cst)) {
      futex_wake_all(unfinished_);
    }
    claim = claim_.load(std::memory_order_acquire);
  }
}

void WorkTeam::run(int chunks, ChunkFn fn) {
  if (chunks <= 0) return;
  if (threads_ == 1 || chunks == 1) {
    for (int i = 0; i < chunks; ++i) fn(i, 0);
    return;
  }
  if (chunks > kMaxChunks) {  // more than one claim word counts: in jobs of kMaxChunks
    for (int first = 0; first < chunks; first += kMaxChunks) {
      auto part = [&](int64_t i, int slot) { fn(first + i, slot); };
      run(std::min(kMaxChunks, chunks - first), ChunkFn(part));
    }
    return;
  }
  if (solo_left_ > 0) {  // helpers were late lately: one thread's pace, without waiting on them
    --solo_left_;
    std::exception_ptr first;  // every chunk still runs once; the first exception comes after
    for (int i = 0; i < chunks; ++i) {
      try {
        fn(i, 0);
      } catch (...) {
        if (!first) first = std::current_exception();
      }
    }
    if (first) std::rethrow_exception(first);
    return;
  }
  if (helpers_.empty()) start_helpers();
  ++job_;
  fn_.store(&fn, std::memory_order_relaxed);
  unfinished_.store(static_cast<uint32_t>(chunks), std::memory_order_relaxed);
  claim_.store(uint64_t{job_} << 32 | uint64_t(chunks) << 16, std::memory_order_release);
  wake_.fetch_add(1, std::memory_order_seq_cst);
  if (sleepers_.load(std::memory_order_seq_cst) > 0) futex_wake_all(wake_);
  const auto start = std::chrono::steady_clock::now();
  drain(0);
  // Only chunks that a helper claimed and is still running are left.
  if (!spin_until([&] { return unfinished_.load(std::memory_order_acquire) == 0; })) {
    const auto drained = std::chrono::steady_clock::now();
    caller_sleeps_.store(true, std::memory_order_seq_cst);
    for (uint32_t left; (left = unfinished_.load(std::memory_order_seq_cst)) != 0;) {
      futex_wait(unfinished_, left);
    }
    caller_sleeps_.store(false, std::memory_order_relaxed);
    const auto waited = std::chrono::steady_clock::now() - drained;
    if (waited > kLate && waited > drained - start) {
      solo_stretch_ = solo_stretch_ == 0 ? kSoloMin : std::min(kSoloMax, 2 * solo_stretch_);
      solo_left_ = solo_stretch_;
      return_error();
      return;
    }
  }
  solo_stretch_ = 0;  // on time: the next late helper starts the back-off from the beginning
  return_error();
}

void WorkTeam::return_error() {
  if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
}

}  // namespace pipecut::runtime
