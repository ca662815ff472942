// Ranges of every activation over the calibration inputs, from our float runtime keeping them.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>

#include "pipecut/error.h"
#include "pipecut/quant.h"

namespace pipecut {

namespace {

// Channel sums (last axis) and how many values each has seen.
struct ChannelSums {
  std::vector<double> sums;
  double per_channel = 0;
};

void widen(std::pair<float, float>& range, const TensorValue& v, ChannelSums* sums = nullptr) {
  const size_t n = v.data.size() / 4;
  const size_t channels =
      v.shape.empty() || v.shape.back() <= 0 ? 1 : static_cast<size_t>(v.shape.back());
  if (sums && sums->sums.size() != channels) sums->sums.assign(channels, 0.0);
  for (size_t i = 0; i < n; ++i) {
    float x;
    std::memcpy(&x, v.data.data() + 4 * i, 4);
    if (!std::isfinite(x)) continue;  // a NaN or an infinity has no int8 place; it is not a range
    range.first = std::min(range.first, x);
    range.second = std::max(range.second, x);
    if (sums) sums->sums[i % channels] += x;
  }
  if (sums) sums->per_channel += static_cast<double>(n / channels);
}

constexpr int kBins = 2048;

// Counts of a tensor's values in kBins equal bins over the first pass's [lo, hi].
struct Histogram {
  float lo = 0, hi = 0;
  std::vector<double> counts = std::vector<double>(kBins, 0.0);
  void add(const TensorValue& v) {
    const size_t n = v.data.size() / 4;
    const float width = (hi - lo) / kBins;
    for (size_t i = 0; i < n; ++i) {
      float x;
      std::memcpy(&x, v.data.data() + 4 * i, 4);
      if (!std::isfinite(x)) continue;
      const int b = width > 0 ? static_cast<int>(std::clamp((x - lo) / width, 0.0f, 4096.0f)) : 0;
      counts[static_cast<size_t>(std::clamp(b, 0, kBins - 1))] += 1;
    }
  }
  float center(int b) const { return lo + (static_cast<float>(b) + 0.5f) * (hi - lo) / kBins; }
};

std::pair<float, float> percentile_range(const Histogram& h, double percentile) {
  double total = 0;
  for (double c : h.counts) total += c;
  const double cut = total * (100.0 - percentile) / 100.0;
  int first = 0, last = kBins - 1;
  for (double seen = 0; first < kBins - 1 && seen + h.counts[static_cast<size_t>(first)] <= cut;)
    seen += h.counts[static_cast<size_t>(first++)];
  for (double seen = 0; last > 0 && seen + h.counts[static_cast<size_t>(last)] <= cut;)
    seen += h.counts[static_cast<size_t>(last--)];
  const float width = (h.hi - h.lo) / kBins;
  return {h.lo + static_cast<float>(first) * width, h.lo + static_cast<float>(last + 1) * width};
}

// The squared error of quantizing the histogram's values to int8 over [lo, hi] (asymmetric, 0
// exact, as quantize_model makes activations).
double quantization_error(const Histogram& h, float lo, float hi) {
  lo = std::min(lo, 0.0f);
  hi = std::max(hi, 0.0f);
  if (!(hi - lo > 1e-6f)) return std::numeric_limits<double>::max();
  const double scale = (static_cast<double>(hi) - lo) / 255.0;
  const double zero = std::clamp(std::round(-128.0 - lo / scale), -128.0, 127.0);
  double error = 0;
  for (int b = 0; b < kBins; ++b) {
    const double n = h.counts[static_cast<size_t>(b)];
    if (n == 0) continue;
    const double x = h.center(b);
    const double q = std::clamp(std::round(x / scale) + zero, -128.0, 127.0);
    const double d = x - (q - zero) * scale;
    error += n * d * d;
  }
  return error;
}

std::pair<float, float> mse_range(const Histogram& h) {
  std::pair<float, float> best{h.lo, h.hi};
  double best_error = quantization_error(h, h.lo, h.hi);
  for (int step = 99; step >= 20; --step) {
    const float f = static_cast<float>(step) / 100.0f;
    const double e = quantization_error(h, h.lo * f, h.hi * f);
    if (e < best_error) {
      best_error = e;
      best = {h.lo * f, h.hi * f};
    }
  }
  return best;
}

}  // namespace

Ranges calibrate(const Model& model, const std::vector<std::vector<TensorValue>>& inputs,
                 const ProgressFn& progress, const CalibrateOptions& calibrate_options) {
  return calibrate(
      model, static_cast<int>(inputs.size()), [&](int i) { return inputs[static_cast<size_t>(i)]; },
      progress, calibrate_options);
}

Ranges calibrate(const Model& model, int count,
                 const std::function<std::vector<TensorValue>(int)>& input_at,
                 const ProgressFn& progress, const CalibrateOptions& calibrate_options) {
  if (calibrate_options.method == RangeMethod::kPercentile &&
      !(calibrate_options.percentile > 50.0 && calibrate_options.percentile <= 100.0)) {
    throw Error(model.origin() + ": the percentile must be above 50 and at most 100");
  }
  if (count <= 0) throw Error(model.origin() + ": no calibration inputs");
  // Every float activation an op makes, kept by name; the model's inputs are read directly.
  CpuOptions options;
  std::map<std::string, int> index_of;
  for (const Op& op : model.ops()) {
    for (int t : op.outputs) {
      const Tensor& tensor = model.tensor(t);
      if (tensor.type != DType::kFloat32) continue;
      if (index_of.emplace(tensor.name, t).second) options.keep.push_back(tensor.name);
    }
  }
  auto executable = load_cpu(model, options);
  Ranges ranges;
  std::map<int, ChannelSums> sums;
  const auto fresh =
      std::make_pair(std::numeric_limits<float>::max(), std::numeric_limits<float>::lowest());
  for (int i = 0; i < count; ++i) {
    const std::vector<TensorValue> input = input_at(i);
    const auto outputs = executable->run(input);
    for (size_t k = 0; k < input.size(); ++k) {
      const int t = model.inputs().at(k);
      if (model.tensor(t).type != DType::kFloat32) continue;
      widen(ranges.min_max.try_emplace(t, fresh).first->second, input[k], &sums[t]);
    }
    for (const TensorValue& v : executable->kept()) {
      const auto it = index_of.find(v.name);
      if (it != index_of.end())
        widen(ranges.min_max.try_emplace(it->second, fresh).first->second, v, &sums[it->second]);
    }
    for (size_t k = 0; k < outputs.size(); ++k) {
      const int t = model.outputs().at(k);
      if (model.tensor(t).type == DType::kFloat32)
        widen(ranges.min_max.try_emplace(t, fresh).first->second, outputs[k], &sums[t]);
    }
    ++ranges.inputs;
    if (progress) progress(i + 1, count, "calibrating");
  }
  for (const auto& [t, s] : sums) {
    if (s.per_channel <= 0) continue;
    auto& means = ranges.channel_means[t];
    for (double sum : s.sums) means.push_back(static_cast<float>(sum / s.per_channel));
  }
  if (calibrate_options.method == RangeMethod::kMinMax) return ranges;

  // Second pass: each tensor's histogram over its range, then the range the method draws.
  std::map<int, Histogram> histograms;
  for (const auto& [t, range] : ranges.min_max) {
    Histogram& h = histograms[t];
    h.lo = range.first;
    h.hi = range.second;
  }
  for (int i = 0; i < count; ++i) {
    const std::vector<TensorValue> input = input_at(i);
    const auto outputs = executable->run(input);
    for (size_t k = 0; k < input.size(); ++k) {
      const auto it = histograms.find(model.inputs().at(k));
      if (it != histograms.end()) it->second.add(input[k]);
    }
    for (const TensorValue& v : executable->kept()) {
      const auto named = index_of.find(v.name);
      if (named == index_of.end()) continue;
      const auto it = histograms.find(named->second);
      if (it != histograms.end()) it->second.add(v);
    }
    for (size_t k = 0; k < outputs.size(); ++k) {
      const auto it = histograms.find(model.outputs().at(k));
      if (it != histograms.end()) it->second.add(outputs[k]);
    }
    if (progress) progress(i + 1, count, "histograms");
  }
  for (auto& [t, range] : ranges.min_max) {
    const Histogram& h = histograms.at(t);
    double seen = 0;
    for (double c : h.counts) seen += c;
    // Nothing finite seen, or a range that is not a range: the first pass's stays.
    if (seen == 0 || !std::isfinite(h.lo) || !std::isfinite(h.hi) || !(h.hi > h.lo)) continue;
    range = calibrate_options.method == RangeMethod::kPercentile
                ? percentile_range(h, calibrate_options.percentile)
                : mse_range(h);
  }
  return ranges;
}

}  // namespace pipecut
