#pragma once
// AVX-512 inner loop of our own 8-bit depthwise convolution (depth multiplier 1): 32 channels of
// one output pixel at a time, accumulators in registers, taps taken in pairs so that one
// vpmaddwd multiplies and adds two taps' int16 values. The input zero point is folded into the
// bias, and the windows that lie wholly inside a row run as one loop at fixed tap offsets (a
// third faster than listing every window's taps). Exactly the integers (and the float
// requantization) of the portable loop in depthwise_kernel.cpp.
#include <cstdint>
#include <vector>

#include "runtime/conv_setup.h"
#include "runtime/simd.h"

namespace pipecut::runtime {

struct DepthwiseAvx512 {
  // Built once from the centred weights ([kh][kw][c]), biases and scales.
  void prepare(const ConvGeometry& g, const std::vector<int32_t>& centered,
               const std::vector<int32_t>& bias, const std::vector<float>& scale,
               int32_t input_zero, int32_t output_zero, int32_t lo, int32_t hi);
  void rows(const uint8_t* in, uint8_t* out, int64_t begin, int64_t end) const;
  int64_t bytes() const;

  ConvGeometry g;
  int pairs = 0, blocks = 0;
  int32_t input_zero = 0, output_zero = 0, lo = 0, hi = 255;
  std::vector<int16_t>
      weights;                // [pair][block][64]: (tap 2p, tap 2p+1) interleaved in vpunpck order
  std::vector<int32_t> bias;  // [block][32] in vpunpck order, minus z_x * (sum of the weights)
  std::vector<float> scale;   // [block][32] in vpunpck order
  std::vector<uint8_t> zero_row;  // channels bytes equal to the input zero point (padding taps)
};

}  // namespace pipecut::runtime
