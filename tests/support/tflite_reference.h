#pragma once
// TensorFlow Lite's integer kernels for chains of uint8 per-tensor ops, as in Coral's v1
// MobileNets: CONV_2D, DEPTHWISE_CONV_2D, AVERAGE_POOL_2D and RESHAPE, written here from
// TensorFlow Lite's reference kernels (accumulate exactly, MultiplyByQuantizedMultiplier with its
// two roundings, average = (sum + count / 2) / count). It does not share code with pipecut's
// runtime, so it is a third voice where pipecut and Arm NN disagree.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "pipecut/model.h"

namespace pipecut::testing {

// Runs ops 0 .. op_count - 1 of `model`'s chain (each op reads the previous op's output, the first
// the model's single input) on `input`; returns every op's output bytes. Throws std::runtime_error
// for another op, type, layout or quantization.
std::vector<std::vector<uint8_t>> run_tflite_uint8_reference(const Model& model,
                                                             const std::vector<uint8_t>& input,
                                                             size_t op_count);

}  // namespace pipecut::testing
