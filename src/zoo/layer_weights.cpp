#include "zoo/layer_weights.h"

#include <algorithm>
#include <cmath>

#include "zoo/seeded_rng.h"

namespace pipecut::zoo {

LayerWeights make_layer_weights(const ActInfo& in, const LayerRecipe& r) {
  LayerWeights layer;
  const size_t n = static_cast<size_t>(r.out_channels), k = static_cast<size_t>(r.fan_in);
  const auto index = [&](size_t c, size_t i) { return r.channel_minor ? i * n + c : c * k + i; };
  layer.weights.resize(n * k);
  layer.weight_scales.resize(n);
  layer.bias_scales.resize(n);
  layer.bias.reserve(n * 4);
  if (r.float_model) {
    layer.float_weights.resize(n * k);
    layer.float_bias.resize(n);
  }
  Rng weight_rng(r.seed, r.key);
  Rng bn_rng(r.seed, r.key + "#bias");
  const double he_std = std::sqrt(2.0 / r.fan_in);
  const auto [clip_lo, clip_hi] = activation_clip(r.activation);
  double lo = kInf, hi = -kInf, sum_mean = 0.0, sum_m2 = 0.0;
  std::vector<double> w(k);
  for (size_t c = 0; c < n; ++c) {
    double s1 = 0.0, s2 = 0.0, max_abs = 0.0;
    for (size_t i = 0; i < k; ++i) {
      w[i] = he_std * weight_rng.normal();
      s1 += w[i];
      s2 += w[i] * w[i];
      max_abs = std::max(max_abs, std::abs(w[i]));
    }
    max_abs = std::max(max_abs, 1e-12);
    // Raw channel output z = w . x (Keras initializes conv biases to zero).
    const double z_mean = in.mean * s1;
    const double z_std = in.stddev * std::sqrt(s2);
    double fold = 1.0, bias = 0.0;
    if (r.batch_norm) {
      // Seeded batch norm whose moving statistics roughly match the channel's estimated
      // statistics, as they would after training: the folded output is ~ N(beta, gamma^2).
      const double gamma = 0.6 + 0.8 * bn_rng.uniform();
      const double beta = 0.1 * bn_rng.normal();
      const double moving_mean = z_mean + 0.05 * z_std * bn_rng.normal();
      const double moving_var = z_std * z_std * std::exp(0.1 * bn_rng.normal());
      fold = gamma / std::sqrt(moving_var + r.bn_epsilon);
      bias = beta - moving_mean * fold;
    } else {
      bias = 0.01 * bn_rng.normal();
    }
    const double mean_c = z_mean * fold + bias;
    const double std_c = z_std * fold;
    lo = std::min(lo, mean_c - kSigmas * std_c);
    hi = std::max(hi, mean_c + kSigmas * std_c);
    const Moments m = clipped_moments(mean_c, std_c, clip_lo, clip_hi);
    sum_mean += m.mean;
    sum_m2 += m.m2;

    if (r.float_model) {  // the folded layer as it is; no quantization
      for (size_t i = 0; i < k; ++i)
        layer.float_weights[index(c, i)] = static_cast<float>(w[i] * fold);
      layer.float_bias[c] = static_cast<float>(bias);
      continue;
    }
    const float w_scale = static_cast<float>(max_abs * fold / 127.0);
    const double inv_step = 127.0 / max_abs;
    layer.weight_scales[c] = w_scale;
    for (size_t i = 0; i < k; ++i) {
      // |w| <= max_abs, so this rounds half away from zero into [-127, 127] (cheaper than
      // std::round, which is a library call without SSE4.1).
      const double x = w[i] * inv_step;
      const int q = static_cast<int>(x + (x >= 0.0 ? 0.5 : -0.5));
      layer.weights[index(c, i)] = static_cast<uint8_t>(static_cast<int8_t>(q));
    }
    const float b_scale = in.scale * w_scale;
    layer.bias_scales[c] = b_scale;
    const double qb = std::clamp(std::round(bias / b_scale), -2147483647.0, 2147483647.0);
    append_le(layer.bias, static_cast<uint32_t>(static_cast<int32_t>(qb)));
  }
  const double mean = sum_mean / static_cast<double>(n);
  layer.out.mean = mean;
  layer.out.stddev = std::sqrt(std::max(sum_m2 / static_cast<double>(n) - mean * mean, 1e-12));
  lo = std::max(lo, clip_lo);
  hi = std::min(hi, clip_hi);
  if (r.activation == Activation::kRelu6) hi = 6.0;  // the converter's range for ReLU6
  if (hi <= lo) hi = lo + 1e-3;
  quantize_range(layer.out, lo, hi);
  return layer;
}

}  // namespace pipecut::zoo
