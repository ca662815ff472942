// Conv, ConvTranspose, BatchNormalization, Gemm and MatMul.
#include <cmath>

#include "onnx/layout_rules.h"

namespace pipecut::onnx_import {

namespace {

tflite::BuiltinOptionsUnion conv_options(Pad pad, const std::vector<Axis>& axes,
                                         tflite::ActivationFunctionType act) {
  tflite::Conv2DOptionsT o;
  o.padding = tfl(pad);
  o.stride_h = static_cast<int32_t>(axes[0].s);
  o.stride_w = static_cast<int32_t>(axes[1].s);
  o.dilation_h_factor = static_cast<int32_t>(axes[0].d);
  o.dilation_w_factor = static_cast<int32_t>(axes[1].d);
  o.fused_activation_function = act;
  tflite::BuiltinOptionsUnion u;
  u.Set(std::move(o));
  return u;
}

// Folds a BatchNormalization that alone reads the convolution's output into its weights and
// bias: w' = w * g / sqrt(v + e), b' = (b - m) * g / sqrt(v + e) + beta.
void fold_batch_norm(Importer& im, std::vector<float>& w, std::vector<float>& b, int64_t out_ch) {
  const onnx::NodeProto* bn = im.sole_consumer(0);
  if (!bn || bn->op_type() != "BatchNormalization" || bn->output_size() != 1) return;
  if (!bn->domain().empty() && bn->domain() != "ai.onnx") return;
  float epsilon = 1e-5f;
  for (const auto& a : bn->attribute()) {
    if (a.name() == "epsilon") epsilon = a.f();
    if (a.name() == "training_mode" && a.i() != 0) return;  // convert_batch_norm refuses it
  }
  if (bn->input_size() < 5) return;
  std::vector<std::vector<float>> p(4);  // scale, B, mean, var: only constants fold
  for (int k = 1; k <= 4; ++k) {
    const Value* v = im.find_value(bn->input(k));
    if (!v || !v->is_const || !v->is_float || static_cast<int64_t>(v->f.size()) != out_ch) return;
    p[static_cast<size_t>(k - 1)] = v->f;
  }
  const size_t per = w.size() / static_cast<size_t>(out_ch);
  for (int64_t o = 0; o < out_ch; ++o) {
    const auto c = static_cast<size_t>(o);
    const float a = p[0][c] / std::sqrt(p[3][c] + epsilon);
    for (size_t j = 0; j < per; ++j) w[c * per + j] *= a;
    b[c] = (b[c] - p[2][c]) * a + p[1][c];
  }
  im.fuse(*bn, 0);
}

}  // namespace

void convert_conv(Importer& im) {
  const Value& x = im.in(0);
  const Value& wv = im.in(1);
  if (x.shape.size() != 4) im.fail("only 2-D convolutions (4-D inputs) are imported");
  if (!wv.is_const || !wv.is_float || wv.shape.size() != 4) {
    im.fail("the weights must be a constant 4-D float tensor");
  }
  const int64_t n = x.shape[0], c = x.shape[1];
  const int64_t o = wv.shape[0], ig = wv.shape[1], kh = wv.shape[2], kw = wv.shape[3];
  const int64_t group = im.attr_int("group", 1);
  if (group <= 0 || c != ig * group || o % group != 0) {
    im.fail("group " + std::to_string(group) + " does not fit " + std::to_string(c) +
            " input channels and weights of " + std::to_string(ig) + " per group");
  }
  if (auto ks = im.attr_ints("kernel_shape"); !ks.empty() && ks != std::vector<int64_t>{kh, kw}) {
    im.fail("kernel_shape differs from the weights' shape");
  }
  const auto axes = window_axes(im, x.shape[2], x.shape[3], {kh, kw});
  const std::vector<int64_t> out = {axes[0].out_floor(), axes[1].out_floor()};
  std::vector<float> w = wv.f;
  std::vector<float> b = im.has_input(2) ? im.const_floats(2) : std::vector<float>(o, 0.0f);
  if (static_cast<int64_t>(b.size()) != o) im.fail("the bias has the wrong size");
  fold_batch_norm(im, w, b, o);
  const auto act = im.take_activation(0);
  const std::string name = im.output_name(0);

  Pad pad = choose_padding(axes, out);
  int xt = im.tensor_in(0, nhwc_perm());
  if (pad == Pad::kExplicit) {
    xt = pad_nhwc(im, xt, axes, 0.0f);
    pad = Pad::kValid;
  }
  std::vector<Axis> run_axes = axes;
  const int y = im.new_output(0, {n, o, out[0], out[1]}, nhwc_perm());
  const int bias = im.const_tensor(name + "/bias", {o}, b);
  if (group == 1) {
    const int wt = im.const_tensor(im.input_name(1), {o, kh, kw, ig},
                                   permute(w, {o, ig, kh, kw}, {0, 2, 3, 1}));
    im.emit().op(tflite::BuiltinOperator_CONV_2D, {xt, wt, bias}, {y},
                 conv_options(pad, run_axes, act), axes[0].d > 1 || axes[1].d > 1 ? 2 : 1);
    return;
  }
  if (ig == 1) {  // depthwise: one input channel per group, o / c outputs each
    const int wt =
        im.const_tensor(im.input_name(1), {1, kh, kw, o}, permute(w, {o, 1, kh, kw}, {1, 2, 3, 0}));
    tflite::DepthwiseConv2DOptionsT d;
    d.padding = tfl(pad);
    d.stride_h = static_cast<int32_t>(axes[0].s);
    d.stride_w = static_cast<int32_t>(axes[1].s);
    d.dilation_h_factor = static_cast<int32_t>(axes[0].d);
    d.dilation_w_factor = static_cast<int32_t>(axes[1].d);
    d.depth_multiplier = static_cast<int32_t>(o / c);
    d.fused_activation_function = act;
    tflite::BuiltinOptionsUnion u;
    u.Set(std::move(d));
    im.emit().op(tflite::BuiltinOperator_DEPTHWISE_CONV_2D, {xt, wt, bias}, {y}, std::move(u),
                 axes[0].d > 1 || axes[1].d > 1 ? 2 : 1);
    return;
  }
  // Grouped: SPLIT the channels, one CONV_2D per group, CONCATENATION of the results.
  const int64_t og = o / group;
  auto xshape = im.emit().shape(xt);
  xshape[3] = static_cast<int32_t>(ig);
  std::vector<int32_t> parts;
  for (int64_t g = 0; g < group; ++g)
    parts.push_back(im.emit().activation(im.aux("group" + std::to_string(g) + "_in"), xshape));
  tflite::SplitOptionsT so;
  so.num_splits = static_cast<int32_t>(group);
  tflite::BuiltinOptionsUnion su;
  su.Set(std::move(so));
  im.emit().op(tflite::BuiltinOperator_SPLIT, {im.const_i32(name + "/split_axis", {3}), xt}, parts,
               std::move(su));
  const auto yshape = im.emit().shape(y);
  std::vector<int32_t> results;
  const size_t per = static_cast<size_t>(ig * kh * kw);
  for (int64_t g = 0; g < group; ++g) {
    const std::string gname = im.aux("group" + std::to_string(g));
    std::vector<float> wg(w.begin() + static_cast<ptrdiff_t>(g * og * per),
                          w.begin() + static_cast<ptrdiff_t>((g + 1) * og * per));
    std::vector<float> bg(b.begin() + g * og, b.begin() + (g + 1) * og);
    auto gshape = yshape;
    gshape[3] = static_cast<int32_t>(og);
    const int r = im.emit().activation(im.fresh(gname), gshape);
    const int wt = im.const_tensor(gname + "/weights", {og, kh, kw, ig},
                                   permute(wg, {og, ig, kh, kw}, {0, 2, 3, 1}));
    im.emit().op(tflite::BuiltinOperator_CONV_2D,
                 {parts[static_cast<size_t>(g)], wt, im.const_tensor(gname + "/bias", {og}, bg)},
                 {r}, conv_options(pad, run_axes, tflite::ActivationFunctionType_NONE));
    results.push_back(r);
  }
  tflite::ConcatenationOptionsT co;
  co.axis = 3;
  co.fused_activation_function = act;
  tflite::BuiltinOptionsUnion cu;
  cu.Set(std::move(co));
  im.emit().op(tflite::BuiltinOperator_CONCATENATION, results, {y}, std::move(cu));
}

void convert_conv_transpose(Importer& im) {
  const Value& x = im.in(0);
  const Value& wv = im.in(1);
  if (x.shape.size() != 4) im.fail("only 2-D transposed convolutions are imported");
  if (!wv.is_const || !wv.is_float || wv.shape.size() != 4) {
    im.fail("the weights must be a constant 4-D float tensor");
  }
  if (im.attr_int("group", 1) != 1) im.fail("grouped transposed convolution is not supported");
  if (im.has_attr("output_shape")) im.fail("the output_shape attribute is not supported");
  const std::string auto_pad = im.attr_string("auto_pad", "NOTSET");
  if (auto_pad != "NOTSET") im.fail("auto_pad " + auto_pad + " is not supported");
  const int64_t n = x.shape[0], c = x.shape[1];
  const int64_t o = wv.shape[1], kh = wv.shape[2], kw = wv.shape[3];
  if (wv.shape[0] != c) im.fail("the weights do not match the input channels");
  auto strides = im.attr_ints("strides");
  auto pads = im.attr_ints("pads");
  auto out_pad = im.attr_ints("output_padding");
  auto dil = im.attr_ints("dilations");
  if (strides.empty()) strides = {1, 1};
  if (pads.empty()) pads = {0, 0, 0, 0};
  if (out_pad.empty()) out_pad = {0, 0};
  if (!dil.empty() && dil != std::vector<int64_t>{1, 1}) im.fail("dilation is not supported");
  if (strides.size() != 2 || pads.size() != 4 || out_pad.size() != 2) {
    im.fail("strides, pads and output_padding must describe 2 spatial axes");
  }
  const int64_t k[2] = {kh, kw};
  int64_t full[2], out[2];
  bool valid = true, same = true, fits = true;
  for (size_t a = 0; a < 2; ++a) {
    const int64_t in = x.shape[a + 2], s = strides[a];
    constexpr int64_t kLimit = int64_t{1} << 24;
    if (s <= 0 || pads[a] < 0 || pads[a + 2] < 0 || s > kLimit || pads[a] > kLimit ||
        pads[a + 2] > kLimit || out_pad[a] < 0 || out_pad[a] > kLimit || k[a] > kLimit) {
      im.fail("strides, pads or output_padding out of range");
    }
    full[a] = (in - 1) * s + k[a];
    out[a] = full[a] + out_pad[a] - pads[a] - pads[a + 2];
    valid = valid && pads[a] == 0 && pads[a + 2] == 0 && out_pad[a] == 0;
    const int64_t total = std::max<int64_t>(k[a] - s, 0);
    same = same && out[a] == in * s && pads[a] == total / 2;
    fits = fits && pads[a] + out[a] <= full[a];
  }
  if (!valid && !same && !fits) {
    im.fail("output_padding reaches past the kernel's output; not supported");
  }
  std::vector<float> b = im.has_input(2) ? im.const_floats(2) : std::vector<float>(o, 0.0f);
  if (static_cast<int64_t>(b.size()) != o) im.fail("the bias has the wrong size");
  const std::string name = im.output_name(0);
  const int xt = im.tensor_in(0, nhwc_perm());
  const int wt = im.const_tensor(im.input_name(1), {o, kh, kw, c},
                                 permute(wv.f, {c, o, kh, kw}, {1, 2, 3, 0}));
  const int bias = im.const_tensor(name + "/bias", {o}, b);
  const bool direct = valid || same;
  const int64_t th = direct ? out[0] : full[0], tw = direct ? out[1] : full[1];
  const std::vector<int32_t> shape = {static_cast<int32_t>(n), static_cast<int32_t>(th),
                                      static_cast<int32_t>(tw), static_cast<int32_t>(o)};
  const int y = direct ? im.new_output(0, {n, o, out[0], out[1]}, nhwc_perm())
                       : im.emit().activation(im.aux("full"), shape);
  tflite::TransposeConvOptionsT t;
  t.padding = valid ? tflite::Padding_VALID : (same ? tflite::Padding_SAME : tflite::Padding_VALID);
  t.stride_h = static_cast<int32_t>(strides[0]);
  t.stride_w = static_cast<int32_t>(strides[1]);
  tflite::BuiltinOptionsUnion u;
  u.Set(std::move(t));
  im.emit().op(tflite::BuiltinOperator_TRANSPOSE_CONV,
               {im.const_i32(name + "/output_shape", shape), wt, xt, bias}, {y}, std::move(u), 3);
  if (direct) return;
  // The full output cropped to ONNX's pads.
  const int cropped = im.new_output(0, {n, o, out[0], out[1]}, nhwc_perm());
  const std::vector<int32_t> begin = {0, static_cast<int32_t>(pads[0]),
                                      static_cast<int32_t>(pads[1]), 0};
  const std::vector<int32_t> end = {static_cast<int32_t>(n), static_cast<int32_t>(pads[0] + out[0]),
                                    static_cast<int32_t>(pads[1] + out[1]),
                                    static_cast<int32_t>(o)};
  tflite::StridedSliceOptionsT so;
  tflite::BuiltinOptionsUnion su;
  su.Set(std::move(so));
  im.emit().op(tflite::BuiltinOperator_STRIDED_SLICE,
               {y, im.const_i32(name + "/begin", begin), im.const_i32(name + "/end", end),
                im.const_i32(name + "/strides", {1, 1, 1, 1})},
               {cropped}, std::move(su));
}

void convert_batch_norm(Importer& im) {
  // Not after a convolution (those fold): y = x * a + b per channel (axis 1).
  const Value& x = im.in(0);
  if (x.is_const) im.fail("a BatchNormalization of a constant is not supported");
  if (x.shape.size() < 2) im.fail("the input needs a channel axis");
  const int64_t c = x.shape[1];
  const auto scale = im.const_floats(1), bias = im.const_floats(2), mean = im.const_floats(3),
             var = im.const_floats(4);
  if (static_cast<int64_t>(scale.size()) != c || bias.size() != scale.size() ||
      mean.size() != scale.size() || var.size() != scale.size()) {
    im.fail("the statistics do not have one value per channel");
  }
  const float epsilon = im.attr_float("epsilon", 1e-5f);
  if (im.attr_int("training_mode", 0) != 0) {
    im.fail("training mode (batch statistics) is not imported");
  }
  std::vector<float> a(scale.size()), b(scale.size());
  for (size_t i = 0; i < a.size(); ++i) {
    a[i] = scale[i] / std::sqrt(var[i] + epsilon);
    b[i] = bias[i] - mean[i] * a[i];
  }
  const std::string name = im.output_name(0);
  const size_t rank = x.shape.size();
  Shape logical(rank - 1, 1);
  logical[0] = c;  // [C, 1, 1]: aligned right against [N, C, H, W]
  const Perm perm = x.perm;
  const int xt = im.tensor_in(0, perm);
  const auto act = im.take_activation(0);
  const int scaled = im.emit().activation(im.aux("scaled"), im.emit().shape(xt));
  im.emit().op(tflite::BuiltinOperator_MUL,
               {xt, broadcast_const(im, name + "/scale", logical, a, rank, perm)}, {scaled});
  const int y = im.new_output(0, x.shape, perm);
  tflite::AddOptionsT o;
  o.fused_activation_function = act;
  tflite::BuiltinOptionsUnion u;
  u.Set(std::move(o));
  im.emit().op(tflite::BuiltinOperator_ADD,
               {scaled, broadcast_const(im, name + "/shift", logical, b, rank, perm)}, {y},
               std::move(u));
}

namespace {

// FULLY_CONNECTED of activation input 0 ([..., K]) with weights [N, K] and bias [N].
void fully_connected(Importer& im, std::vector<float> w, int64_t units, int64_t depth,
                     std::vector<float> bias) {
  const Value& a = im.in(0);
  const std::string name = im.output_name(0);
  const int at = im.tensor_in(0, identity_perm(a.shape.size()));
  const auto act = im.take_activation(0);
  Shape out = a.shape;
  out.back() = units;
  const int y = im.new_output(0, out, {});
  const int wt = im.const_tensor(name + "/weights", {units, depth}, w);
  const int bt = im.const_tensor(name + "/bias", {units}, bias);
  tflite::FullyConnectedOptionsT o;
  o.fused_activation_function = act;
  o.keep_num_dims = a.shape.size() > 2;
  tflite::BuiltinOptionsUnion u;
  u.Set(std::move(o));
  im.emit().op(tflite::BuiltinOperator_FULLY_CONNECTED, {at, wt, bt}, {y}, std::move(u),
               a.shape.size() > 2 ? 5 : 1);
}

std::vector<float> transpose2(const std::vector<float>& m, int64_t rows, int64_t cols) {
  std::vector<float> t(m.size());
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      t[static_cast<size_t>(c * rows + r)] = m[static_cast<size_t>(r * cols + c)];
  return t;
}

}  // namespace

void convert_gemm(Importer& im) {
  const Value& a = im.in(0);
  const Value& bv = im.in(1);
  if (a.is_const) im.fail("a Gemm of constants is not supported");
  if (a.shape.size() != 2) im.fail("input A must be 2-D");
  if (im.attr_int("transA", 0) != 0) im.fail("transA is not supported");
  if (!bv.is_const || !bv.is_float || bv.shape.size() != 2) im.fail("B must be a constant matrix");
  const bool trans_b = im.attr_int("transB", 0) != 0;
  const int64_t k = a.shape[1];
  const int64_t units = trans_b ? bv.shape[0] : bv.shape[1];
  if ((trans_b ? bv.shape[1] : bv.shape[0]) != k) im.fail("A and B do not fit");
  std::vector<float> w = trans_b ? bv.f : transpose2(bv.f, k, units);
  const float alpha = im.attr_float("alpha", 1.0f), beta = im.attr_float("beta", 1.0f);
  if (alpha != 1.0f)
    for (float& x : w) x *= alpha;
  std::vector<float> bias(static_cast<size_t>(units), 0.0f);
  if (im.has_input(2)) {
    const auto cv = im.const_floats(2);
    const Shape& cs = im.in(2).shape;
    // One value, or one per column ([N] or [1, N]); a column of M values ([M, 1]) is per row.
    const bool per_column = static_cast<int64_t>(cv.size()) == units &&
                            (cs.size() == 1 || (cs.size() == 2 && cs[0] == 1));
    if (cv.size() != 1 && !per_column) {
      im.fail("C must broadcast along the output's columns");
    }
    for (size_t i = 0; i < bias.size(); ++i) bias[i] = beta * cv[cv.size() == 1 ? 0 : i];
  }
  fully_connected(im, std::move(w), units, k, std::move(bias));
}

void convert_matmul(Importer& im) {
  const Value& a = im.in(0);
  const Value& bv = im.in(1);
  if (a.is_const || !bv.is_const) {
    im.fail("only an activation times a constant matrix is supported");
  }
  if (a.shape.size() < 2 || bv.shape.size() != 2 || !bv.is_float) {
    im.fail("B must be a constant 2-D float matrix and A at least 2-D");
  }
  const int64_t k = bv.shape[0], units = bv.shape[1];
  if (a.shape.back() != k) im.fail("A and B do not fit");
  fully_connected(im, transpose2(bv.f, k, units), units, k,
                  std::vector<float>(static_cast<size_t>(units), 0.0f));
}

}  // namespace pipecut::onnx_import
