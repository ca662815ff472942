#pragma once
// TensorFlow Lite's fixed-point requantization, written here from its reference kernels for the
// tests that compare pipecut's runtime with it: SaturatingRoundingDoublingHighMul,
// RoundingDivideByPOT, QuantizeMultiplier and MultiplyByQuantizedMultiplier (which rounds twice).
// Independent of src/runtime/quant_math.cpp on purpose.
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
  r.m = static_cast<int32_t>(fixed);
  return r;
}

inline int32_t mbqm(int32_t x, Multiplier q) {
  const int left = q.shift > 0 ? q.shift : 0, right = q.shift > 0 ? 0 : -q.shift;
  return rounding_divide_by_pot(srdhm(x * (1 << left), q.m), right);
}

}  // namespace pipecut::testing::tfl
