#pragma once
// TensorFlow Lite's fixed-point requantization, written here from its reference kernels for the
// tests that compare pipecut's runtime with it: SaturatingRoundingDoublingHighMul,
// RoundingDivideByPOT, QuantizeMultiplier and MultiplyByQuantizedMultiplier (which rounds twice),
// and the padding of a sliding window.
// Independent of src/runtime/quant_math.cpp on purpose.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

namespace pipecut::testing::tfl {

inline int32_t srdhm(int32_t a, int32_t b) {
  if (a == b && a == std::numeric_limits<int32_t>::min())
    return std::numeric_limits<int32_t>::max();
  const int64_t ab = static_cast<int64_t>(a) * b;
  const int64_t nudge = ab >= 0 ? (1LL << 30) : (1 - (1LL << 30));
  return static_cast<int32_t>((ab + nudge) / (1LL << 31));
}

inline int32_t rounding_divide_by_pot(int32_t x, int exponent) {
  const int32_t mask = static_cast<int32_t>((1LL << exponent) - 1);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

inline int32_t saturating_shift_left(int32_t x, int exponent) {
  const int32_t threshold = static_cast<int32_t>((1LL << (31 - exponent)) - 1);
  if (x > threshold) return std::numeric_limits<int32_t>::max();
  if (x < -threshold) return std::numeric_limits<int32_t>::min();
  return static_cast<int32_t>(static_cast<uint32_t>(x) << exponent);
}

struct Multiplier {
  int32_t m = 0;
  int shift = 0;
};

inline Multiplier quantize_multiplier(double d) {
  Multiplier r;
  if (d == 0) return r;
  const double q = std::frexp(d, &r.shift);
  int64_t fixed = static_cast<int64_t>(std::round(q * (1LL << 31)));
  if (fixed == (1LL << 31)) {
    fixed /= 2;
    ++r.shift;
  }
  if (r.shift < -31) {  // too small to matter: zero
    r.shift = 0;
    fixed = 0;
  }
  if (r.shift > 30) {  // saturated as pipecut does (TensorFlow Lite: single-rounding build only)
    r.shift = 30;
    fixed = (1LL << 31) - 1;
  }
  r.m = static_cast<int32_t>(fixed);
  return r;
}

inline int32_t mbqm(int32_t x, Multiplier q) {
  const int left = q.shift > 0 ? q.shift : 0, right = q.shift > 0 ? 0 : -q.shift;
  return rounding_divide_by_pot(srdhm(x * (1 << left), q.m), right);
}

// The padding before the first row or column under SAME padding (none under VALID), as
// TensorFlow Lite's ComputePaddingHeightWidth gives it.
inline int64_t pad_before(bool same, int64_t in, int64_t out, int64_t filter, int stride,
                          int dilation = 1) {
  if (!same) return 0;
  const int64_t effective = (filter - 1) * dilation + 1;
  return std::max<int64_t>((out - 1) * stride + effective - in, 0) / 2;
}

}  // namespace pipecut::testing::tfl
