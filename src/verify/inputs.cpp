#include "pipecut/inputs.h"

#include <cmath>
#include <cstring>
#include <random>

#include "pipecut/error.h"
#include "pipecut/files.h"
#include "pipecut/image.h"

namespace pipecut {

namespace {

TensorValue empty_value(const TensorSpec& spec) {
  TensorValue v;
  v.name = spec.name;
  v.type = spec.type;
  v.shape = spec.shape;
  v.quant = spec.quant;
  v.data.resize(static_cast<size_t>(spec.byte_size()));
  return v;
}

}  // namespace

std::vector<TensorValue> random_inputs(const std::vector<TensorSpec>& specs, uint64_t seed) {
  std::vector<TensorValue> out;
  std::mt19937_64 rng(seed);
  for (const TensorSpec& spec : specs) {
    TensorValue v = empty_value(spec);
    if (spec.type == DType::kFloat32) {
      for (size_t i = 0; i + 4 <= v.data.size(); i += 4) {
        // 24 random bits -> [-1, 1): identical on every platform.
        const float f = static_cast<float>(static_cast<int64_t>(rng() >> 40) - (1 << 23)) /
                        static_cast<float>(1 << 23);
        std::memcpy(v.data.data() + i, &f, 4);
      }
    } else {
      for (auto& b : v.data) b = static_cast<uint8_t>(rng() >> 56);
    }
    out.push_back(std::move(v));
  }
  return out;
}

TensorValue raw_input(const TensorSpec& spec, const std::filesystem::path& file) {
  TensorValue v = empty_value(spec);
  const auto bytes = read_file(file);
  if (bytes.size() != v.data.size()) {
    throw Error(file.string() + ": holds " + std::to_string(bytes.size()) + " bytes but input '" +
                spec.name + "' needs " + std::to_string(v.data.size()));
  }
  v.data = bytes;
  return v;
}

TensorValue image_input(const TensorSpec& spec, const std::filesystem::path& path) {
  if (spec.shape.size() != 4 || spec.shape[0] != 1 || spec.shape[3] != 3) {
    throw Error(path.string() + ": input '" + spec.name + "' is not a [1, H, W, 3] image");
  }
  if (spec.type != DType::kUInt8 && spec.type != DType::kInt8 && spec.type != DType::kFloat32) {
    throw Error(path.string() + ": input '" + spec.name + "' is " + dtype_name(spec.type) +
                "; images feed uint8, int8 or float32 inputs");
  }
  const int h = spec.shape[1], w = spec.shape[2];
  if (h <= 0 || w <= 0) {
    throw Error(path.string() + ": input '" + spec.name + "' has no fixed height and width");
  }
  const Image image = resize_image(load_image(path), w, h);
  TensorValue v = empty_value(spec);
  for (size_t i = 0; i < image.rgb.size(); ++i) {
    const uint8_t p = image.rgb[i];
    if (spec.type == DType::kUInt8) {
      v.data[i] = p;
    } else if (spec.type == DType::kInt8) {
      v.data[i] = static_cast<uint8_t>(static_cast<int8_t>(p - 128));
    } else {
      const float f = static_cast<float>(p) / 127.5f - 1.0f;
      std::memcpy(v.data.data() + i * 4, &f, 4);
    }
  }
  return v;
}

TensorValue image_input_normalised(const TensorSpec& spec, const std::filesystem::path& path,
                                   float mean, float std) {
  if (spec.type != DType::kFloat32)
    throw Error(path.string() + ": input '" + spec.name +
                "' is not float32; normalising is for float inputs");
  if (!(std > 0)) throw Error(path.string() + ": the normalisation's std must be positive");
  TensorSpec as_bytes = spec;
  as_bytes.type = DType::kUInt8;
  const TensorValue pixels = image_input(as_bytes, path);
  TensorValue v = empty_value(spec);
  for (size_t i = 0; i < pixels.data.size(); ++i) {
    const float f = (static_cast<float>(pixels.data[i]) - mean) / std;
    std::memcpy(v.data.data() + 4 * i, &f, 4);
  }
  return v;
}

}  // namespace pipecut
