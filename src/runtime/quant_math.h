#pragma once
// Quantization arithmetic shared by the kernels: TensorFlow Lite's fixed-point multipliers,
// activation ranges in the stored (uint8) domain, and 256-entry lookup tables for 8-bit unary
// maps (requantization, activations), which make those maps exact.
#include <array>
#include <cmath>
#include <cstdint>
#include <functional>

#include "runtime/op_options.h"
#include "runtime/value_info.h"

namespace pipecut::runtime {

struct QuantizedMultiplier {
  int32_t multiplier = 0;  // Q0.31
  int shift = 0;           // > 0: left shift
};

// TensorFlow Lite's QuantizeMultiplier.
QuantizedMultiplier quantize_multiplier(double real_multiplier);
int32_t saturating_rounding_doubling_high_mul(int32_t a, int32_t b);
int32_t rounding_divide_by_pot(int32_t x, int exponent);
// TensorFlow Lite's MultiplyByQuantizedMultiplier (doubling high mul, then rounding shift).
int32_t multiply_by_quantized_multiplier(int32_t x, QuantizedMultiplier m);

struct IntRange {
  int32_t lo = 0, hi = 255;
};
struct FloatRange {
  float lo = -INFINITY, hi = INFINITY;
};

// TensorFlow Lite's CalculateActivationRangeQuantized for `out`, in the stored domain. Returns
// false for an activation that is not a clamp (TANH, SIGN_BIT).
bool activation_range(Activation act, const ValueInfo& out, IntRange* range);
bool activation_range(Activation act, FloatRange* range);

using Lut = std::array<uint8_t, 256>;

// out[x] = clamp(round(f(real(x)) / s_out) + z_out, range), over stored values x of `in`.
Lut make_lut(const ValueInfo& in, const ValueInfo& out, const std::function<double(double)>& f,
             IntRange range = {});
// TensorFlow Lite's Requantize: MultiplyByQuantizedMultiplier(x - z_in, s_in / s_out) + z_out,
// computed in the file domains, for every stored value.
Lut requantize_lut(const ValueInfo& in, const ValueInfo& out);
bool is_identity(const Lut& lut);
// Same scale and (stored) zero point: an 8-bit tensor can be copied as bytes.
bool same_quantization(const ValueInfo& a, const ValueInfo& b);

}  // namespace pipecut::runtime
