#pragma once
// Helpers for our own hot loops. PIPECUT_MULTIVERSION compiles a function for AVX-512, AVX2 and
// baseline x86-64 and picks one at load time (GCC and Clang target_clones), since the project
// builds without -march flags. Loops are written so that the compilers vectorize them.
#include <algorithm>
#include <cmath>
#include <cstdint>

// Not under sanitizers: their runtime may not be ready when the ifunc resolvers run.
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define PIPECUT_NO_MULTIVERSION 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define PIPECUT_NO_MULTIVERSION 1
#endif

#if defined(__x86_64__) && !defined(PIPECUT_NO_MULTIVERSION)
#define PIPECUT_MULTIVERSION \
  __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define PIPECUT_MULTIVERSION
#endif

namespace pipecut::runtime {

// True when this CPU runs AVX-512 (F, BW, VL), for the kernels written with its intrinsics. Setting
// the environment variable PIPECUT_RUNTIME_NO_AVX512 selects their portable loops instead (same
// results), for testing.
bool use_avx512();

// round(value) + zero, clamped to [lo, hi]: the requantization step of our own integer kernels.
// Rounds half to even (the current rounding mode), as oneDNN's conversions do. Results do not
// depend on the thread count: every kernel hands each element to the same code path whatever
// the split (rows or fixed-size pieces), so even where the compiler fuses a multiply-add in one
// path and not in another, an element is always computed the same way.
inline int32_t requantize(float value, int32_t zero, int32_t lo, int32_t hi) {
  // std::min(a, b) returns a unless b < a, so a NaN value (a bug upstream) becomes 4e6 and is
  // clamped, instead of reaching a float-to-int conversion, which it would make undefined.
  const float bounded = std::max(-4.0e6f, std::min(4.0e6f, value));
  const int32_t r = static_cast<int32_t>(std::nearbyint(bounded)) + zero;
  return std::min(std::max(r, lo), hi);
}

}  // namespace pipecut::runtime
