#pragma once
// Threads. Debian's oneDNN runs on GNU OpenMP, so the thread count of a run is OpenMP's
// nthreads-var of the calling thread: ThreadScope sets it for a load or a run and restores it.
// Our own kernels share oneDNN's OpenMP team through parallel_for, so both never compete for
// cores. The OpenMP entry points are looked up in the process (libdnnl already loads libgomp);
// without them everything runs on the calling thread.
#include <cstdint>
#include <type_traits>

namespace pipecut::runtime {

class ThreadScope {
 public:
  explicit ThreadScope(int threads);
  ~ThreadScope();
  ThreadScope(const ThreadScope&) = delete;
  ThreadScope& operator=(const ThreadScope&) = delete;

 private:
  int saved_ = 0;
};

// Threads a parallel region started now would get.
int max_threads();

// A non-owning reference to a callable taking (begin, end): no allocation, unlike std::function.
class RangeFn {
 public:
  template <typename F>
  explicit RangeFn(F& f)
      : object_(const_cast<void*>(static_cast<const void*>(&f))),
        call_([](void* o, int64_t b, int64_t e) { (*static_cast<F*>(o))(b, e); }) {}
  void operator()(int64_t begin, int64_t end) const { call_(object_, begin, end); }

 private:
  void* object_;
  void (*call_)(void*, int64_t, int64_t);
};

void parallel_for_range(int64_t n, int64_t min_chunk, RangeFn fn);

// Calls fn(begin, end) on contiguous, disjoint chunks covering [0, n), in parallel when n is at
// least 2 * min_chunk. Each index is handled exactly once, whatever the thread count; fn must
// compute every result from its own index only, so results do not depend on the split.
template <typename F>
void parallel_for(int64_t n, int64_t min_chunk, F&& fn) {
  std::remove_reference_t<F>& f = fn;
  parallel_for_range(n, min_chunk, RangeFn(f));
}

}  // namespace pipecut::runtime
