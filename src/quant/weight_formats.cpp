// The weights side of qreport: a tensor's real values, the Jensen-Shannon divergence of two
// value sets, and other weight formats (power-of-two scales, FP8 E4M3) to score beside int8.
#include "quant/weight_formats.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace pipecut::quant {

namespace {
constexpr int kBins = 256;
}  // namespace

// A tensor's real values: float32 as they are, 8-bit and int32 dequantized (per channel along
// the quantized axis). Empty when it has no data or a type this does not read.
std::vector<double> real_values(const Tensor& t) {
  const auto& d = t.data;
  const size_t n = static_cast<size_t>(std::max<int64_t>(0, t.num_elements()));
  std::vector<double> out;
  if (d.empty() || n == 0) return out;
  if (t.type == DType::kFloat32) {
    if (d.size() < 4 * n) return out;
    out.resize(n);
    for (size_t i = 0; i < n; ++i) {
      float f;
      std::memcpy(&f, d.data() + 4 * i, 4);
      out[i] = f;
    }
    return out;
  }
  const size_t width = t.type == DType::kInt32 ? 4 : 1;
  if ((t.type != DType::kInt8 && t.type != DType::kUInt8 && t.type != DType::kInt32) ||
      d.size() < width * n || !t.quant.present())
    return out;
  // Per channel: element i belongs to channel (i / inner) % channels along the axis.
  const size_t channels = t.quant.scale.size();
  size_t inner = 1;
  if (channels > 1) {
    const auto axis = static_cast<size_t>(
        std::clamp<int32_t>(t.quant.axis, 0, static_cast<int32_t>(t.shape.size()) - 1));
    for (size_t k = axis + 1; k < t.shape.size(); ++k) inner *= static_cast<size_t>(t.shape[k]);
  }
  out.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const size_t c = channels > 1 ? (i / inner) % channels : 0;
    const double zp =
        c < t.quant.zero_point.size() ? static_cast<double>(t.quant.zero_point[c]) : 0;
    double q;
    if (t.type == DType::kInt32) {
      int32_t v;
      std::memcpy(&v, d.data() + 4 * i, 4);
      q = v;
    } else {
      q = t.type == DType::kInt8 ? static_cast<double>(static_cast<int8_t>(d[i])) : d[i];
    }
    out[i] = static_cast<double>(t.quant.scale[c]) * (q - zp);
  }
  return out;
}

// Jensen-Shannon divergence in bits between the value histograms of a and b.
double js_divergence(const std::vector<double>& a, const std::vector<double>& b) {
  // Nothing to compare (weights computed at run time, a type this does not read) is unknown, not
  // perfect; non-finite values are left out of the histograms.
  const auto finite_count = [](const std::vector<double>& v) {
    return std::count_if(v.begin(), v.end(), [](double x) { return std::isfinite(x); });
  };
  if (finite_count(a) == 0 || finite_count(b) == 0) return std::numeric_limits<double>::quiet_NaN();
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const auto* v : {&a, &b})
    for (double x : *v) {
      if (!std::isfinite(x)) continue;
      lo = std::min(lo, x);
      hi = std::max(hi, x);
    }
  if (!(hi > lo)) return 0;
  std::vector<double> p(kBins, 0), q(kBins, 0);
  const auto fill = [&](const std::vector<double>& v, std::vector<double>& h) {
    const double share = 1.0 / static_cast<double>(finite_count(v));
    for (double x : v) {
      if (!std::isfinite(x)) continue;
      const int bin = std::min(kBins - 1, static_cast<int>((x - lo) / (hi - lo) * kBins));
      h[static_cast<size_t>(std::max(0, bin))] += share;
    }
  };
  fill(a, p);
  fill(b, q);
  double js = 0;
  for (int i = 0; i < kBins; ++i) {
    const double m = 0.5 * (p[static_cast<size_t>(i)] + q[static_cast<size_t>(i)]);
    if (p[static_cast<size_t>(i)] > 0)
      js += 0.5 * p[static_cast<size_t>(i)] * std::log2(p[static_cast<size_t>(i)] / m);
    if (q[static_cast<size_t>(i)] > 0)
      js += 0.5 * q[static_cast<size_t>(i)] * std::log2(q[static_cast<size_t>(i)] / m);
  }
  return std::max(0.0, js);
}

// The nearest FP8 E4M3 value (1 sign, 4 exponent bits with bias 7, 3 mantissa bits, subnormals
// below 2^-6, largest 448), saturating.
double to_e4m3(double x) {
  if (!std::isfinite(x)) return x;
  const double a = std::min(std::fabs(x), 448.0);
  if (a == 0) return 0;
  const int e = std::max(-6, static_cast<int>(std::floor(std::log2(a))));
  const double step = std::ldexp(1.0, e - 3);  // 8 steps per binade; subnormals share 2^-9
  return std::copysign(std::min(448.0, std::nearbyint(a / step) * step), x);
}

// The float weights `w` (output channels first, as CONV_2D, FULLY_CONNECTED and TRANSPOSE_CONV
// keep them; last for DEPTHWISE_CONV_2D) quantized per output channel by `scheme` and back.
std::vector<double> requantized(const std::vector<double>& w, const std::vector<int32_t>& shape,
                                bool depthwise, bool fp8) {
  if (w.empty() || shape.empty()) return w;
  const size_t channels =
      static_cast<size_t>(std::max(1, depthwise ? shape.back() : shape.front()));
  const size_t inner = depthwise ? 1 : w.size() / channels;
  const auto channel_of = [&](size_t i) { return depthwise ? i % channels : i / inner; };
  std::vector<double> peak(channels, 0);
  for (size_t i = 0; i < w.size(); ++i)
    peak[channel_of(i)] = std::max(peak[channel_of(i)], std::fabs(w[i]));
  std::vector<double> out(w.size());
  for (size_t i = 0; i < w.size(); ++i) {
    const double p = peak[channel_of(i)];
    if (p == 0) {
      out[i] = 0;
    } else if (fp8) {
      const double scale = p / 448.0;
      out[i] = to_e4m3(w[i] / scale) * scale;
    } else {
      const double scale = std::exp2(std::ceil(std::log2(p / 127.0)));
      out[i] = std::clamp(std::nearbyint(w[i] / scale), -127.0, 127.0) * scale;
    }
  }
  return out;
}

}  // namespace pipecut::quant
