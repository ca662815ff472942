#pragma once
// The analytic scale estimate behind the zoo's int8 models: every activation carries an
// estimated mean and standard deviation (pooled over its channels), propagated layer by layer,
// and its quantization covers the range those give. See builder.cpp's opening comment.
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "zoo/builder.h"

namespace pipecut::zoo {

constexpr double kSigmas = 4.0;  // estimated range = mean +- kSigmas * std
constexpr double kInf = std::numeric_limits<double>::infinity();

// What the builder knows about an activation tensor.
struct ActInfo {
  std::vector<int32_t> shape;
  double mean = 0.0, stddev = 1.0;  // analytic estimate, pooled over channels
  double lo = -1.0, hi = 1.0;       // estimated range the quantization covers
  float scale = 1.0f;
  int32_t zero_point = 0;
};

struct Moments {
  double mean = 0.0;
  double m2 = 0.0;  // E[y^2]
};

// Moments of clip(X, lo, hi) for X ~ N(mu, s^2); lo may be -inf and hi +inf.
Moments clipped_moments(double mu, double s, double lo, double hi);

// The range a fused activation clips to: [0, inf) for ReLU, [0, 6] for ReLU6, else everything.
std::pair<double, double> activation_clip(Activation act);

// Sets the quantization of `info` to cover [lo, hi] (widened to include 0): asymmetric int8.
void quantize_range(ActInfo& info, double lo, double hi);

}  // namespace pipecut::zoo
