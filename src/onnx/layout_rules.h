#pragma once
// Small shared pieces of the converters: spatial arithmetic of convolutions and pooling, TFLite
// padding choice, option unions. Internal to the onnx layer.
#include <cstdint>
#include <string>
#include <vector>

#include "onnx/importer.h"

namespace pipecut::onnx_import {

// One spatial axis of a window op: input size, kernel, stride, dilation, padding before/after.
struct Axis {
  int64_t in = 0, k = 1, s = 1, d = 1, pb = 0, pe = 0;
  int64_t span() const { return (k - 1) * d + 1; }
  int64_t out_floor() const { return (in + pb + pe - span()) / s + 1; }
};

// The two spatial axes of the current node (kernel from `kernel` or the attribute), with
// strides, dilations, pads and auto_pad resolved. Fails for anything but 2-D.
std::vector<Axis> window_axes(Importer& im, int64_t in_h, int64_t in_w,
                              const std::vector<int64_t>& kernel);

// TFLite's SAME padding for an axis would give exactly these pads and this output size.
bool same_as_tflite(const Axis& a, int64_t out);

enum class Pad { kValid, kSame, kExplicit };
// VALID when there is no padding, SAME when TFLite's SAME pads the same way, else explicit
// (a PAD op before the op, which then runs VALID).
Pad choose_padding(const std::vector<Axis>& axes, const std::vector<int64_t>& out);

// A PAD (or PADV2 with `value`) of NHWC tensor `x` by the axes' pads plus `extra_end` more at the
// end of each spatial axis; returns the padded tensor.
int pad_nhwc(Importer& im, int x, const std::vector<Axis>& axes, float value,
             const std::vector<int64_t>& extra_end = {0, 0});

// A constant of logical shape `logical` (broadcast-ready for an activation of rank `rank`,
// aligned right as ONNX broadcasting aligns), stored in the order `perm` of that rank.
int broadcast_const(Importer& im, const std::string& name, Shape logical,
                    const std::vector<float>& data, size_t rank, const Perm& perm);

tflite::Padding tfl(Pad p);

}  // namespace pipecut::onnx_import
