#pragma once
// The weights side of qreport (quant_report.cpp): reading a tensor's real values, scoring how far
// two sets of weights are apart, and re-quantizing float weights in other formats.
#include <cstdint>
#include <vector>

#include "pipecut/model.h"

namespace pipecut::quant {

// A tensor's real values: float32 as they are, 8-bit and int32 dequantized (per channel along
// the quantized axis). Empty when it has no data or a type this does not read.
std::vector<double> real_values(const Tensor& t);

// Jensen-Shannon divergence (bits, 0..1) between the histograms of `a` and `b` over their common
// range; NaN when either is empty.
double js_divergence(const std::vector<double>& a, const std::vector<double>& b);

// The nearest FP8 E4M3 value, saturating at 448.
double to_e4m3(double x);

// The float weights `w` (output channels first; last for DEPTHWISE_CONV_2D) quantized per output
// channel to power-of-two-scaled int8 (fp8 false) or FP8 E4M3 (fp8 true), and back.
std::vector<double> requantized(const std::vector<double>& w, const std::vector<int32_t>& shape,
                                bool depthwise, bool fp8);

}  // namespace pipecut::quant
