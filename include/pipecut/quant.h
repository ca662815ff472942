#pragma once
// Quantization: today the way back, an 8-bit model as float32 for reference runs
// (`pipecut dequantize`); the native quantizer (`pipecut quantize`) is the next piece.
#include <cstdint>
#include <vector>

#include "pipecut/model.h"

namespace pipecut {

// A float32 model computing with the 8-bit model's dequantized weights: every quantized tensor
// (int8, uint8, int16 activations and weights, int32 biases) becomes float32 with
// real = scale x (q - zero_point), per channel where the weights are; QUANTIZE and DEQUANTIZE ops
// disappear (their consumers read the float tensor directly). Tensor names, the op order, the
// builtin options, signatures and metadata are kept, so cut names work the same. Throws
// pipecut::Error naming the model when a quantized tensor cannot be dequantized (a missing scale,
// an axis out of range, a type it does not know).
std::vector<uint8_t> dequantize_model(const Model& model);

}  // namespace pipecut
