#include "onnx/layout_rules.h"

#include <algorithm>

namespace pipecut::onnx_import {

std::vector<Axis> window_axes(Importer& im, int64_t in_h, int64_t in_w,
                              const std::vector<int64_t>& kernel) {
  if (kernel.size() != 2) im.fail("only 2-D windows are imported");
  auto strides = im.attr_ints("strides");
  auto dilations = im.attr_ints("dilations");
  auto pads = im.attr_ints("pads");
  if (strides.empty()) strides = {1, 1};
  if (dilations.empty()) dilations = {1, 1};
  if (pads.empty()) pads = {0, 0, 0, 0};
  if (strides.size() != 2 || dilations.size() != 2 || pads.size() != 4) {
    im.fail("strides, dilations and pads must describe 2 spatial axes");
  }
  std::vector<Axis> axes(2);
  const int64_t in[2] = {in_h, in_w};
  for (size_t a = 0; a < 2; ++a) {
    axes[a] = {in[a], kernel[a], strides[a], dilations[a], pads[a], pads[a + 2]};
    if (axes[a].k <= 0 || axes[a].s <= 0 || axes[a].d <= 0 || axes[a].pb < 0 || axes[a].pe < 0) {
      im.fail("kernel, strides and dilations must be positive and pads not negative");
    }
    constexpr int64_t kLimit = int64_t{1} << 24;  // far beyond any real window; fits int32
    if (axes[a].k > kLimit || axes[a].s > kLimit || axes[a].d > kLimit || axes[a].pb > kLimit ||
        axes[a].pe > kLimit || axes[a].in > kLimit) {
      im.fail("kernel, strides, dilations, pads or input size beyond " + std::to_string(kLimit));
    }
  }
  const std::string auto_pad = im.attr_string("auto_pad", "NOTSET");
  if (auto_pad == "VALID") {
    for (auto& a : axes) a.pb = a.pe = 0;
  } else if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    for (auto& a : axes) {
      const int64_t out = (a.in + a.s - 1) / a.s;
      const int64_t total = std::max<int64_t>((out - 1) * a.s + a.span() - a.in, 0);
      const int64_t small = total / 2;
      a.pb = auto_pad == "SAME_UPPER" ? small : total - small;
      a.pe = total - a.pb;
    }
  } else if (auto_pad != "NOTSET") {
    im.fail("auto_pad '" + auto_pad + "' is not an ONNX value");
  }
  for (const auto& a : axes) {
    if (a.in + a.pb + a.pe < a.span()) im.fail("the window is larger than the padded input");
  }
  return axes;
}

bool same_as_tflite(const Axis& a, int64_t out) {
  const int64_t same_out = (a.in + a.s - 1) / a.s;
  const int64_t total = std::max<int64_t>((same_out - 1) * a.s + a.span() - a.in, 0);
  return out == same_out && a.pb == total / 2 && a.pe == total - total / 2;
}

Pad choose_padding(const std::vector<Axis>& axes, const std::vector<int64_t>& out) {
  bool none = true, same = true;
  for (size_t i = 0; i < axes.size(); ++i) {
    none = none && axes[i].pb == 0 && axes[i].pe == 0 && out[i] == axes[i].out_floor();
    same = same && same_as_tflite(axes[i], out[i]);
  }
  if (none) return Pad::kValid;
  if (same) return Pad::kSame;
  return Pad::kExplicit;
}

tflite::Padding tfl(Pad p) {
  return p == Pad::kSame ? tflite::Padding_SAME : tflite::Padding_VALID;
}

int pad_nhwc(Importer& im, int x, const std::vector<Axis>& axes, float value,
             const std::vector<int64_t>& extra_end) {
  auto shape = im.emit().shape(x);
  const std::vector<int32_t> paddings = {0,
                                         0,
                                         static_cast<int32_t>(axes[0].pb),
                                         static_cast<int32_t>(axes[0].pe + extra_end[0]),
                                         static_cast<int32_t>(axes[1].pb),
                                         static_cast<int32_t>(axes[1].pe + extra_end[1]),
                                         0,
                                         0};
  shape[1] += paddings[2] + paddings[3];
  shape[2] += paddings[4] + paddings[5];
  const int out = im.emit().activation(im.aux("pad"), shape);
  const int pads = im.emit().constant_i32(im.aux("paddings"), {4, 2}, paddings);
  if (value == 0.0f) {
    im.emit().op(tflite::BuiltinOperator_PAD, {x, pads}, {out});
  } else {
    const float v[1] = {value};
    const int constant = im.emit().constant(im.aux("pad_value"), {}, v);
    im.emit().op(tflite::BuiltinOperator_PADV2, {x, pads, constant}, {out});
  }
  return out;
}

int broadcast_const(Importer& im, const std::string& name, Shape logical,
                    const std::vector<float>& data, size_t rank, const Perm& perm) {
  if (logical.size() > rank) im.fail("constant '" + name + "' has a higher rank than its operand");
  logical.insert(logical.begin(), rank - logical.size(), 1);
  const Perm p = perm.empty() ? identity_perm(rank) : perm;
  return im.const_tensor(name, physical_shape(logical, p), permute(data, logical, p));
}

}  // namespace pipecut::onnx_import
