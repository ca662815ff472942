// MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool, Resize and Upsample, Pad.
#include <limits>

#include "onnx/layout_rules.h"

namespace pipecut::onnx_import {

namespace {

// Output size of a pooling axis as ONNX and PyTorch give it: with ceil_mode a last window that
// would start in the end padding is dropped.
int64_t pool_out(const Axis& a, bool ceil_mode) {
  const int64_t span = a.in + a.pb + a.pe - a.span();
  if (!ceil_mode) return span / a.s + 1;
  int64_t out = (span + a.s - 1) / a.s + 1;
  if ((out - 1) * a.s >= a.in + a.pb) --out;
  return out;
}

void pool(Importer& im, bool max) {
  const Value& x = im.in(0);
  if (x.shape.size() != 4) im.fail("only 2-D pooling (4-D inputs) is imported");
  const auto kernel = im.attr_ints("kernel_shape");
  const auto axes = window_axes(im, x.shape[2], x.shape[3], kernel);
  if (axes[0].d != 1 || axes[1].d != 1) im.fail("dilated pooling is not supported");
  const bool ceil_mode = im.attr_int("ceil_mode", 0) != 0;
  const std::vector<int64_t> out = {pool_out(axes[0], ceil_mode), pool_out(axes[1], ceil_mode)};
  if (max && im.node().output_size() > 1) im.fail("MaxPool's indices output is not supported");
  const auto act = im.take_activation(0);
  const std::string name = im.output_name(0);
  Pad pad = choose_padding(axes, out);
  int xt = im.tensor_in(0, nhwc_perm());
  if (pad == Pad::kExplicit) {
    // Past the pads, ceil_mode's last window may need more: padded so VALID gives `out`.
    std::vector<int64_t> extra(2);
    for (size_t a = 0; a < 2; ++a) {
      extra[a] = std::max<int64_t>(
          (out[a] - 1) * axes[a].s + axes[a].k - (axes[a].in + axes[a].pb + axes[a].pe), 0);
    }
    if (max) {
      // Padding that never wins a max: the lowest float.
      xt = pad_nhwc(im, xt, axes, std::numeric_limits<float>::lowest(), extra);
    } else {
      const bool counts_pad = im.attr_int("count_include_pad", 0) != 0;
      if (!counts_pad || extra[0] || extra[1]) {
        im.fail("average pooling with these pads (not TFLite's SAME, count_include_pad " +
                std::to_string(counts_pad) + ") is not supported");
      }
      xt = pad_nhwc(im, xt, axes, 0.0f);
    }
    pad = Pad::kValid;
  } else if (!max && pad == Pad::kSame && im.attr_int("count_include_pad", 0) != 0) {
    im.fail("average pooling counting the pads (count_include_pad 1) is not supported");
  }
  const int y = im.new_output(0, {x.shape[0], x.shape[1], out[0], out[1]}, nhwc_perm());
  tflite::Pool2DOptionsT o;
  o.padding = tfl(pad);
  o.stride_h = static_cast<int32_t>(axes[0].s);
  o.stride_w = static_cast<int32_t>(axes[1].s);
  o.filter_height = static_cast<int32_t>(axes[0].k);
  o.filter_width = static_cast<int32_t>(axes[1].k);
  o.fused_activation_function = act;
  tflite::BuiltinOptionsUnion u;
  u.Set(std::move(o));
  im.emit().op(max ? tflite::BuiltinOperator_MAX_POOL_2D : tflite::BuiltinOperator_AVERAGE_POOL_2D,
               {xt}, {y}, std::move(u));
}

}  // namespace

void convert_max_pool(Importer& im) {
  pool(im, true);
}
void convert_average_pool(Importer& im) {
  pool(im, false);
}

void convert_global_pool(Importer& im) {
  const Value& x = im.in(0);
  if (x.shape.size() != 4) im.fail("only 4-D inputs are imported");
  const bool max = im.node().op_type() == "GlobalMaxPool";
  const std::string name = im.output_name(0);
  const int xt = im.tensor_in(0, nhwc_perm());
  const int y = im.new_output(0, {x.shape[0], x.shape[1], 1, 1}, nhwc_perm());
  tflite::ReducerOptionsT o;
  o.keep_dims = true;
  tflite::BuiltinOptionsUnion u;
  u.Set(std::move(o));
  im.emit().op(max ? tflite::BuiltinOperator_REDUCE_MAX : tflite::BuiltinOperator_MEAN,
               {xt, im.const_i32(name + "/axes", {1, 2})}, {y}, std::move(u));
}

void convert_resize(Importer& im) {
  const Value& x = im.in(0);
  if (x.shape.size() != 4) im.fail("only 4-D inputs are resized");
  const bool upsample = im.node().op_type() == "Upsample";
  std::vector<int64_t> sizes;
  // Resize (opset 11+): X, roi, scales, sizes; Upsample: X, scales.
  const int scales_input = upsample ? 1 : 2;
  if (!upsample && im.has_input(3)) {
    sizes = im.const_ints(3);
  } else if (im.has_input(scales_input)) {
    const auto scales = im.const_floats(scales_input);
    if (scales.size() != 4) im.fail("scales must have 4 values");
    for (size_t a = 0; a < 4; ++a) {
      sizes.push_back(static_cast<int64_t>(static_cast<float>(x.shape[a]) * scales[a]));
    }
  }
  if (sizes.size() != 4) im.fail("needs constant scales or sizes for 4 axes");
  if (sizes[0] != x.shape[0] || sizes[1] != x.shape[1]) {
    im.fail("only the spatial axes may be resized");
  }
  const std::string mode = im.attr_string("mode", "nearest");
  const std::string coord =
      upsample ? "asymmetric" : im.attr_string("coordinate_transformation_mode", "half_pixel");
  const std::string name = im.output_name(0);
  const int xt = im.tensor_in(0, nhwc_perm());
  const int y = im.new_output(0, sizes, nhwc_perm());
  const int size = im.const_i32(name + "/size",
                                {static_cast<int32_t>(sizes[2]), static_cast<int32_t>(sizes[3])});
  tflite::BuiltinOptionsUnion u;
  if (mode == "nearest") {
    const std::string nearest = im.attr_string("nearest_mode", "round_prefer_floor");
    tflite::ResizeNearestNeighborOptionsT o;
    if (coord == "asymmetric" && (upsample || nearest == "floor")) {
      // TFLite's default: floor(out * in / size).
    } else if (coord == "align_corners" && nearest == "round_prefer_ceil") {
      o.align_corners = true;
    } else if ((coord == "half_pixel" || coord == "pytorch_half_pixel") &&
               nearest == "round_prefer_ceil") {
      o.half_pixel_centers = true;
    } else {
      im.fail("nearest resizing with coordinate_transformation_mode '" + coord +
              "' and nearest_mode '" + nearest + "' has no TFLite equivalent");
    }
    u.Set(std::move(o));
    im.emit().op(tflite::BuiltinOperator_RESIZE_NEAREST_NEIGHBOR, {xt, size}, {y}, std::move(u));
    return;
  }
  if (mode != "linear") im.fail("resize mode '" + mode + "' is not supported");
  tflite::ResizeBilinearOptionsT o;
  if (coord == "align_corners") {
    o.align_corners = true;
  } else if (coord == "half_pixel" ||
             (coord == "pytorch_half_pixel" && sizes[2] > 1 && sizes[3] > 1)) {
    o.half_pixel_centers = true;
  } else if (coord != "asymmetric") {
    im.fail("linear resizing with coordinate_transformation_mode '" + coord + "' is not supported");
  }
  u.Set(std::move(o));
  im.emit().op(tflite::BuiltinOperator_RESIZE_BILINEAR, {xt, size}, {y}, std::move(u), 3);
}

void convert_pad(Importer& im) {
  const Value& x = im.in(0);
  if (x.is_const) im.fail("padding a constant is not supported");
  const std::string mode = im.attr_string("mode", "constant");
  if (mode != "constant") im.fail("pad mode '" + mode + "' is not supported");
  const auto pads = im.const_ints(1);
  const size_t rank = x.shape.size();
  if (pads.size() != 2 * rank) im.fail("pads must have two values per axis");
  float value = 0.0f;
  if (im.has_input(2)) {
    const auto v = im.const_floats(2);
    if (v.size() != 1) im.fail("the constant value must be a scalar");
    value = v[0];
  }
  if (im.has_input(3)) im.fail("the axes input is not supported");
  const Perm perm = x.perm.empty() ? identity_perm(rank) : x.perm;
  const int xt = im.tensor_in(0, perm);
  Shape out = x.shape;
  std::vector<int32_t> paddings;
  for (size_t k = 0; k < rank; ++k) {  // in the order the bytes are in
    const auto a = static_cast<size_t>(perm[k]);
    if (pads[a] < 0 || pads[a + rank] < 0) im.fail("negative pads (cropping) are not supported");
    paddings.push_back(static_cast<int32_t>(pads[a]));
    paddings.push_back(static_cast<int32_t>(pads[a + rank]));
  }
  for (size_t a = 0; a < rank; ++a) out[a] += pads[a] + pads[a + rank];
  const std::string name = im.output_name(0);
  const int pt = im.emit().constant_i32(im.fresh(name + "/paddings"),
                                        {static_cast<int32_t>(rank), 2}, paddings);
  const int y = im.new_output(0, out, perm);
  if (value == 0.0f) {
    im.emit().op(tflite::BuiltinOperator_PAD, {xt, pt}, {y});
  } else {
    const float v[1] = {value};
    im.emit().op(tflite::BuiltinOperator_PADV2,
                 {xt, pt, im.emit().constant(im.fresh(name + "/value"), {}, v)}, {y});
  }
}

}  // namespace pipecut::onnx_import
