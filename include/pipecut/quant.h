#pragma once
// Quantization: float32 models to full-integer 8-bit ones, natively (`pipecut quantize`), and the
// way back for reference runs (`pipecut dequantize`).
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "pipecut/model.h"
#include "pipecut/progress.h"
#include "pipecut/runtime.h"

namespace pipecut {

// A float32 model computing with the 8-bit model's dequantized weights: every quantized tensor
// (int8, uint8, int16 activations and weights, int32 biases) becomes float32 with
// real = scale x (q - zero_point), per channel where the weights are; QUANTIZE and DEQUANTIZE ops
// disappear (their consumers read the float tensor directly). Tensor names, the op order, the
// builtin options, signatures and metadata are kept, so cut names work the same. Throws
// pipecut::Error naming the model when a quantized tensor cannot be dequantized (a missing scale,
// an axis out of range, a type it does not know).
std::vector<uint8_t> dequantize_model(const Model& model);

// The real range every activation tensor took over the calibration inputs, by tensor index.
struct Ranges {
  std::map<int, std::pair<float, float>> min_max;
  // The mean of each channel (last axis) over the calibration inputs, for bias correction.
  std::map<int, std::vector<float>> channel_means;
  int inputs = 0;
};

// How a tensor's range is drawn from the values calibration saw:
//  - kMinMax: their minimum and maximum (nothing clipped);
//  - kPercentile: the `percentile`-th and (100 - percentile)-th percentiles (outliers clipped);
//  - kMse: the range, shrunk by the factor (1, 0.99, ..., 0.2 of each side) that minimises the
//    mean squared error of int8 quantization over the values' histogram.
// The last two take a second pass over the inputs (a 2048-bin histogram per tensor over the first
// pass's range). See docs/quantize.md for what each gives on the real models.
enum class RangeMethod { kMinMax, kPercentile, kMse };
// The default is kMse: with bias correction it kept the real models of ../shared/models/float at
// least as close to float as TensorFlow's own INT8 files on photos held out from calibration
// (cosine, SQNR, top-1; docs/quantize.md gives the cases where another choice does better).
struct CalibrateOptions {
  RangeMethod method = RangeMethod::kMse;
  double percentile = 99.99;
};

// Runs `model` (float32) on each calibration input with our CPU runtime and records the range of
// every float activation. Throws pipecut::Error for inputs the model refuses.
Ranges calibrate(const Model& model, const std::vector<std::vector<TensorValue>>& inputs,
                 const ProgressFn& progress = {}, const CalibrateOptions& options = {});
// The same for `count` inputs made one at a time by `input_at(i)` (pictures decoded as they are
// needed, so a large calibration set never sits in memory whole; twice for the histogram methods).
Ranges calibrate(const Model& model, int count,
                 const std::function<std::vector<TensorValue>(int)>& input_at,
                 const ProgressFn& progress = {}, const CalibrateOptions& options = {});

enum class IoType { kInt8, kUInt8, kFloat32 };

struct QuantizeOptions {
  bool per_tensor = false;  // conv weights per tensor instead of per output channel
  // The model's inputs and outputs: int8 (no extra op), or uint8 / float32 with a QUANTIZE first
  // and a QUANTIZE (uint8) or DEQUANTIZE (float32) last, as the TFLite converter writes them;
  // the added int8 tensors are named "<name>_int8".
  IoType io_type = IoType::kInt8;
  // Bias correction: each convolution's and dense layer's bias absorbs the mean shift its
  // weights' rounding causes, (dequantized - float weights) x the input's channel means from
  // calibration (Nagel et al. 2019, the empirical-mean form).
  // On by default: it needs only the calibration's channel means; measured on held-out photos it
  // helped every real model, though not every in-sample figure (docs/quantize.md). A model
  // already rounded to 8 bits (dequantized) is better re-quantized without it.
  bool bias_correction = true;
};

// Cross-layer equalization (Nagel et al. 2019): for each convolution followed only by another
// (with at most a ReLU between; ReLU(x / s) = ReLU(x) / s), the output channels of the first and
// the input channels of the second are rescaled so both have the same weight range, which
// per-tensor quantization then serves evenly. Computes the same function in float; three sweeps,
// each scale bounded to [1/4, 4] (a weak channel with a real bias must not be blown up).
// Returns the rewritten float model and counts the pairs it equalized.
std::vector<uint8_t> equalize_model(const Model& model, int* pairs = nullptr);

// The TFLite 8-bit scheme (the converter's full-integer layout): int8 activations asymmetric
// from `ranges` (0 always representable), int8 weights symmetric per output channel (conv,
// depthwise; fully connected per tensor), int32 biases with scale input x weight scale and zero
// point 0, the fixed output scales of SOFTMAX and LOGISTIC (1/256, -128) and TANH (1/128, 0),
// pooling, reshape and squeeze outputs sharing their input's scale; int8, uint8 or float32 model
// inputs and outputs (options.io_type); a dynamic batch in the shape signatures becomes the shapes'
// batch (8-bit targets need static shapes). Tensor names, signatures and metadata are kept. Throws
// pipecut::Error naming an op it cannot quantize (type and index) or a tensor without a range.
std::vector<uint8_t> quantize_model(const Model& model, const Ranges& ranges,
                                    const QuantizeOptions& options = {});

}  // namespace pipecut
