#pragma once
// The weights, bias and output statistics of one conv, depthwise conv or dense layer of the zoo:
// He-normal weights and a seeded batch norm folded into them, per-channel symmetric int8 weights
// with int32 biases (or, for a float model, the folded float values), and the estimated
// statistics and quantization of the layer's output.
#include <cstdint>
#include <string>
#include <vector>

#include "zoo/activation_stats.h"

namespace pipecut::zoo {

inline void append_le(std::vector<uint8_t>& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

struct LayerWeights {
  std::vector<uint8_t> weights;  // int8, in the TFLite layout
  std::vector<float> weight_scales;
  std::vector<uint8_t> bias;  // int32 little-endian
  std::vector<float> bias_scales;
  std::vector<float> float_weights, float_bias;  // float models only, same layout
  ActInfo out;                                   // the output's statistics (shape left empty)
};

struct LayerRecipe {
  uint64_t seed = 1;
  bool float_model = false;
  std::string key;  // the layer's random stream (its weight tensor's name)
  int out_channels = 0;
  int fan_in = 0;  // each output channel is a dot product of this many inputs
  // Where weight i of channel c goes: c * fan_in + i (conv [O, H, W, I], dense [O, I]), or with
  // channel_minor i * out_channels + c (depthwise [1, H, W, C]).
  bool channel_minor = false;
  bool batch_norm = true;
  double bn_epsilon = 1e-3;
  Activation activation = Activation::kNone;
};

// The layer on an input with `in`'s statistics and quantization.
LayerWeights make_layer_weights(const ActInfo& in, const LayerRecipe& recipe);

}  // namespace pipecut::zoo
