#include "runtime/threading.h"

#include <dlfcn.h>

#include <algorithm>

namespace pipecut::runtime {

namespace {

struct OpenMp {
  void (*set_num_threads)(int) = nullptr;
  int (*get_max_threads)() = nullptr;
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
    if (!o.set_num_threads || !o.get_max_threads) o = OpenMp{};
    return o;
  }();
  return omp;
}

thread_local WorkTeam* current_team = nullptr;

// Chunks per thread for our own kernels: enough that a thread that finishes early takes another,
// few enough that claiming costs nothing next to the work.
constexpr int64_t kChunksPerThread = 4;

}  // namespace

void set_openmp_threads(int threads) {
  if (openmp().set_num_threads) openmp().set_num_threads(std::max(1, threads));
}

TeamScope::TeamScope(WorkTeam* team) : saved_team_(current_team) {
  current_team = team;
  if (openmp().get_max_threads) {
    saved_openmp_ = openmp().get_max_threads();
    set_openmp_threads(1);
  }
}

TeamScope::~TeamScope() {
  current_team = saved_team_;
  if (saved_openmp_ > 0) set_openmp_threads(saved_openmp_);
}

int team_threads() {
  return current_team ? current_team->threads() : 1;
}

void parallel_chunks(int chunks, ChunkFn fn) {
  if (current_team) {
    current_team->run(chunks, fn);
    return;
  }
  for (int i = 0; i < chunks; ++i) fn(i, 0);
}

void parallel_for_range(int64_t n, int64_t min_chunk, RangeFn fn) {
  if (n <= 0) return;
  const int64_t chunks =
      std::min({n / std::max<int64_t>(1, min_chunk), kChunksPerThread * team_threads(),
                int64_t{WorkTeam::kMaxChunks}});
  if (chunks <= 1) {
    fn(0, n);
    return;
  }
  auto chunk = [&](int64_t i, int) { fn(n * i / chunks, n * (i + 1) / chunks); };
  parallel_chunks(static_cast<int>(chunks), ChunkFn(chunk));
}

}  // namespace pipecut::runtime
