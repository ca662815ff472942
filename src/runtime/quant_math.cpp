#include "runtime/quant_math.h"

#include <algorithm>
#include <limits>

namespace pipecut::runtime {

QuantizedMultiplier quantize_multiplier(double real_multiplier) {
  QuantizedMultiplier m;
  if (real_multiplier == 0.0) return m;
  int shift = 0;
  const double q = std::frexp(real_multiplier, &shift);
  int64_t q_fixed = static_cast<int64_t>(std::round(q * static_cast<double>(1LL << 31)));
  if (q_fixed == (1LL << 31)) {
    q_fixed /= 2;
    ++shift;
  }
  if (shift < -31) {
    shift = 0;
    q_fixed = 0;
  }
  // Saturated to the largest multiplier a shift of 30 gives. TensorFlow Lite does this only in its
  // single-rounding build; its default build would shift an int32 by 31 or more bits, which is
  // undefined. Only scales a real model does not have (ratios of 2^30 and more) get here.
  if (shift > 30) {
    shift = 30;
    q_fixed = (1LL << 31) - 1;
  }
  m.multiplier = static_cast<int32_t>(q_fixed);
  m.shift = shift;
  return m;
}

int32_t saturating_rounding_doubling_high_mul(int32_t a, int32_t b) {
  if (a == b && a == std::numeric_limits<int32_t>::min())
    return std::numeric_limits<int32_t>::max();
  const int64_t ab = static_cast<int64_t>(a) * b;
  const int64_t nudge = ab >= 0 ? (1LL << 30) : (1 - (1LL << 30));
  return static_cast<int32_t>((ab + nudge) / (1LL << 31));
}

int32_t rounding_divide_by_pot(int32_t x, int exponent) {
  const int32_t mask = static_cast<int32_t>((1LL << exponent) - 1);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

int32_t multiply_by_quantized_multiplier(int32_t x, QuantizedMultiplier m) {
  const int left = m.shift > 0 ? m.shift : 0;
  const int right = m.shift > 0 ? 0 : -m.shift;
  const int64_t shifted = static_cast<int64_t>(x) * (int64_t{1} << left);
  const int32_t clamped = static_cast<int32_t>(std::clamp<int64_t>(
      shifted, std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max()));
  return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(clamped, m.multiplier),
                                right);
}

bool activation_range(Activation act, FloatRange* range) {
  switch (act) {
    case Activation::kNone:
      *range = {};
      return true;
    case Activation::kRelu:
      *range = {0.f, INFINITY};
      return true;
    case Activation::kRelu6:
      *range = {0.f, 6.f};
      return true;
    case Activation::kReluN1To1:
      *range = {-1.f, 1.f};
      return true;
    default:
      return false;
  }
}

// The real interval, quantized into `out`'s stored domain and cut to what the type holds.
bool activation_range(Activation act, const ValueInfo& out, IntRange* range) {
  FloatRange real;
  if (!activation_range(act, &real)) return false;
  const int32_t qmin = ValueInfo::kMin, qmax = ValueInfo::kMax;
  // Rounded in float as TensorFlow Lite does, then cut in double: f / scale may be far beyond
  // int32 (TensorFlow Lite would convert it regardless).
  auto quantize = [&](float f) {
    const double q = out.zero_point + static_cast<double>(std::round(f / out.scale));
    return static_cast<int32_t>(
        std::clamp(q, static_cast<double>(qmin), static_cast<double>(qmax)));
  };
  *range = {real.lo == -INFINITY ? qmin : quantize(real.lo),
            real.hi == INFINITY ? qmax : quantize(real.hi)};
  return true;
}

Lut make_lut(const ValueInfo& in, const ValueInfo& out, const std::function<double(double)>& f,
             IntRange range) {
  Lut lut{};
  for (int x = 0; x < 256; ++x) {
    const double real = static_cast<double>(in.scale) * (x - in.zero_point);
    const double q = std::round(f(real) / static_cast<double>(out.scale)) + out.zero_point;
    const double clamped =
        std::clamp(q, static_cast<double>(range.lo), static_cast<double>(range.hi));
    lut[static_cast<size_t>(x)] = static_cast<uint8_t>(clamped);
  }
  return lut;
}

Lut requantize_lut(const ValueInfo& in, const ValueInfo& out) {
  Lut lut{};
  const QuantizedMultiplier m =
      quantize_multiplier(static_cast<double>(in.scale) / static_cast<double>(out.scale));
  for (int x = 0; x < 256; ++x) {
    const int32_t v = multiply_by_quantized_multiplier(x - in.zero_point, m) + out.zero_point;
    lut[static_cast<size_t>(x)] = static_cast<uint8_t>(std::clamp(v, 0, 255));
  }
  return lut;
}

bool is_identity(const Lut& lut) {
  for (int x = 0; x < 256; ++x) {
    if (lut[static_cast<size_t>(x)] != x) return false;
  }
  return true;
}

bool same_quantization(const ValueInfo& a, const ValueInfo& b) {
  return a.quantized == b.quantized &&
         (!a.quantized || (a.scale == b.scale && a.zero_point == b.zero_point));
}

}  // namespace pipecut::runtime
