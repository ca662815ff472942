#include "runtime/simd.h"

#include <cstdlib>

namespace pipecut::runtime {

bool use_avx512() {
#if defined(__x86_64__)
  static const bool ok = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                         __builtin_cpu_supports("avx512vl") &&
                         std::getenv("PIPECUT_RUNTIME_NO_AVX512") == nullptr;
  return ok;
#else
  return false;
#endif
}

}  // namespace pipecut::runtime
