#pragma once
// Inputs for running models: seeded random values, raw tensor files and RGB images.
#include <cstdint>
#include <filesystem>
#include <vector>

#include "pipecut/runtime.h"

namespace pipecut {

// Uniform random bytes for 8-bit inputs, uniform [-1, 1) for float32; the same seed gives the
// same values.
std::vector<TensorValue> random_inputs(const std::vector<TensorSpec>& specs, uint64_t seed);

// A raw file of exactly the spec's byte size (as `pipecut run --output` writes them).
TensorValue raw_input(const TensorSpec& spec, const std::filesystem::path& file);

// A picture for a [1, H, W, 3] input: a JPEG, PNG or BMP file of any size, or a square raw RGB
// file (`.rgb`, as ../shared/models/coral/bird.rgb), resized (bilinear, see image.h): uint8
// inputs take the pixel values, int8 inputs pixel - 128, float32 inputs pixel / 127.5 - 1.
// Throws pipecut::Error naming the file when it is not an image or the input is not one.
TensorValue image_input(const TensorSpec& spec, const std::filesystem::path& path);

// The same picture for a float32 input normalised as the model was trained:
// (pixel - mean) / std per channel value (e.g. mean 127.5, std 127.5 for [-1, 1]; 0 and 255 for
// [0, 1]; 0 and 1 for raw pixels).
TensorValue image_input_normalised(const TensorSpec& spec, const std::filesystem::path& path,
                                   float mean, float std);

}  // namespace pipecut
