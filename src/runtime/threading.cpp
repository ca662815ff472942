#include "runtime/threading.h"

#include <dlfcn.h>

#include <algorithm>

namespace pipecut::runtime {

namespace {

struct OpenMp {
  void (*set_num_threads)(int) = nullptr;
  int (*get_max_threads)() = nullptr;
  int (*get_thread_num)() = nullptr;
  int (*get_num_threads)() = nullptr;
  void (*parallel)(void (*)(void*), void*, unsigned, unsigned) = nullptr;  // GOMP_parallel
  bool complete() const {
    return set_num_threads && get_max_threads && get_thread_num && get_num_threads && parallel;
  }
};

template <typename F>
F lookup(const char* name) {
  return reinterpret_cast<F>(dlsym(RTLD_DEFAULT, name));
}

const OpenMp& openmp() {
  static const OpenMp omp = [] {
    OpenMp o;
    o.set_num_threads = lookup<void (*)(int)>("omp_set_num_threads");
    o.get_max_threads = lookup<int (*)()>("omp_get_max_threads");
    o.get_thread_num = lookup<int (*)()>("omp_get_thread_num");
    o.get_num_threads = lookup<int (*)()>("omp_get_num_threads");
    o.parallel = lookup<void (*)(void (*)(void*), void*, unsigned, unsigned)>("GOMP_parallel");
    if (!o.complete()) o = OpenMp{};
    return o;
  }();
  return omp;
}

struct Region {
  int64_t n;
  const RangeFn* fn;
};

void region_body(void* data) {
  const auto* r = static_cast<const Region*>(data);
  const int64_t team = openmp().get_num_threads();
  const int64_t id = openmp().get_thread_num();
  const int64_t begin = r->n * id / team;
  const int64_t end = r->n * (id + 1) / team;
  if (begin < end) (*r->fn)(begin, end);
}

}  // namespace

ThreadScope::ThreadScope(int threads) {
  const OpenMp& omp = openmp();
  if (!omp.set_num_threads) return;
  saved_ = omp.get_max_threads();
  omp.set_num_threads(std::max(1, threads));
}

ThreadScope::~ThreadScope() {
  if (saved_ > 0) openmp().set_num_threads(saved_);
}

int max_threads() {
  const OpenMp& omp = openmp();
  return omp.get_max_threads ? omp.get_max_threads() : 1;
}

void parallel_for_range(int64_t n, int64_t min_chunk, RangeFn fn) {
  if (n <= 0) return;
  const OpenMp& omp = openmp();
  const int64_t chunks = n / std::max<int64_t>(1, min_chunk);
  const int64_t threads = omp.parallel ? std::min<int64_t>(omp.get_max_threads(), chunks) : 1;
  if (threads <= 1) {
    fn(0, n);
    return;
  }
  Region region{n, &fn};
  omp.parallel(&region_body, &region, static_cast<unsigned>(threads), 0);
}

}  // namespace pipecut::runtime
