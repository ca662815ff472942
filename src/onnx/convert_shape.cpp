// Ops that move or relabel data (Reshape, Flatten, Squeeze, Unsqueeze, Transpose, Concat, Split,
// Slice, Identity, Dropout) and the constant shape arithmetic PyTorch emits around them
// (Constant, ConstantOfShape, Shape, Gather, Cast), evaluated at import.
#include <algorithm>
#include <limits>

#include "onnx/layout_rules.h"

namespace pipecut::onnx_import {

namespace {

// Output 0 is input 0 with the logical shape `out` (same elements, same logical order).
void reshape_to(Importer& im, const Shape& out) {
  const Value& x = im.in(0);
  if (element_count(out) != element_count(x.shape)) im.fail("the element counts differ");
  if (x.is_const) {
    Value r = x;
    r.shape = out;
    im.set_const_output(0, std::move(r));
    im.count_folded();
    return;
  }
  // Data stored in another order can be reshaped as it is when its non-unit axes are stored in
  // their logical order ([N, C, 1, 1] stored as NHWC, say); otherwise it is put in order first.
  const Perm have = order_or_identity(x.perm, x.shape.size());
  const int xt = im.tensor_in(0, same_bytes(x.shape, have, identity_perm(x.shape.size()))
                                     ? have
                                     : identity_perm(x.shape.size()));
  const std::string name = im.output_name(0);
  const int y = im.new_output(0, out, {});
  std::vector<int32_t> shape(out.begin(), out.end());
  tflite::ReshapeOptionsT o;
  o.new_shape = shape;
  tflite::BuiltinOptionsUnion u;
  u.Set(std::move(o));
  im.emit().op(tflite::BuiltinOperator_RESHAPE, {xt, im.const_i32(name + "/shape", shape)}, {y},
               std::move(u));
}

int64_t normal_axis(Importer& im, int64_t axis, size_t rank) {
  const auto r = static_cast<int64_t>(rank);
  if (axis < 0) axis += r;
  if (axis < 0 || axis >= r) im.fail("axis " + std::to_string(axis) + " is out of range");
  return axis;
}

// Elements of constant `v` at positions of a sub-box: per axis a start and a step and a count.
Value slice_const(const Value& v, const std::vector<int64_t>& start,
                  const std::vector<int64_t>& step, const Shape& out) {
  Value r;
  r.is_const = true;
  r.is_float = v.is_float;
  r.shape = out;
  const size_t rank = v.shape.size();
  std::vector<int64_t> stride(rank, 1);
  for (size_t a = rank; a-- > 1;) stride[a - 1] = stride[a] * v.shape[a];
  const int64_t n = element_count(out);
  std::vector<int64_t> index(rank, 0);
  for (int64_t e = 0; e < n; ++e) {
    int64_t from = 0;
    for (size_t a = 0; a < rank; ++a) from += (start[a] + index[a] * step[a]) * stride[a];
    if (v.is_float) {
      r.f.push_back(v.f[static_cast<size_t>(from)]);
    } else {
      r.i.push_back(v.i[static_cast<size_t>(from)]);
    }
    for (size_t a = rank; a-- > 0;) {
      if (++index[a] < out[a]) break;
      index[a] = 0;
    }
  }
  return r;
}

}  // namespace

void convert_reshape(Importer& im) {
  const std::string& type = im.node().op_type();
  const Value& x = im.in(0);
  const auto rank = x.shape.size();
  Shape out;
  if (type == "Flatten") {
    const int64_t axis = im.attr_int("axis", 1) < 0
                             ? im.attr_int("axis", 1) + static_cast<int64_t>(rank)
                             : im.attr_int("axis", 1);
    if (axis < 0 || axis > static_cast<int64_t>(rank)) im.fail("axis out of range");
    int64_t outer = 1, inner = 1;
    for (size_t a = 0; a < rank; ++a)
      (static_cast<int64_t>(a) < axis ? outer : inner) *= x.shape[a];
    out = {outer, inner};
  } else if (type == "Reshape") {
    const auto spec = im.const_ints(1);
    const bool allow_zero = im.attr_int("allowzero", 0) != 0;
    int64_t known = 1, infer = -1;
    for (size_t a = 0; a < spec.size(); ++a) {
      int64_t d = spec[a];
      if (d == 0 && !allow_zero) {
        if (a >= rank) im.fail("shape copies a dimension the input does not have");
        d = x.shape[a];
      }
      if (d == -1) {
        if (infer >= 0) im.fail("shape has more than one -1");
        infer = static_cast<int64_t>(a);
      } else if (d < 0) {
        im.fail("shape has a negative dimension");
      } else {
        known *= d;
      }
      out.push_back(d);
    }
    if (infer >= 0) {
      if (known == 0 || element_count(x.shape) % known != 0)
        im.fail("shape does not fit the input");
      out[static_cast<size_t>(infer)] = element_count(x.shape) / known;
    }
  } else if (type == "Squeeze") {
    std::vector<int64_t> axes = im.has_input(1) ? im.const_ints(1) : im.attr_ints("axes");
    for (int64_t& a : axes) a = normal_axis(im, a, rank);
    for (size_t a = 0; a < rank; ++a) {
      const bool listed =
          std::find(axes.begin(), axes.end(), static_cast<int64_t>(a)) != axes.end();
      if (listed && x.shape[a] != 1) im.fail("squeezes an axis that is not 1");
      if (axes.empty() ? x.shape[a] != 1 : !listed) out.push_back(x.shape[a]);
    }
  } else {  // Unsqueeze
    std::vector<int64_t> axes = im.has_input(1) ? im.const_ints(1) : im.attr_ints("axes");
    const size_t out_rank = rank + axes.size();
    for (int64_t& a : axes) a = normal_axis(im, a, out_rank);
    size_t next = 0;
    for (size_t a = 0; a < out_rank; ++a) {
      if (std::find(axes.begin(), axes.end(), static_cast<int64_t>(a)) != axes.end()) {
        out.push_back(1);
      } else {
        if (next >= rank) im.fail("axes do not fit the input");
        out.push_back(x.shape[next++]);
      }
    }
  }
  reshape_to(im, out);
}

void convert_transpose(Importer& im) {
  const Value& x = im.in(0);
  const size_t rank = x.shape.size();
  std::vector<int64_t> p = im.attr_ints("perm");
  if (p.empty())
    for (size_t a = rank; a-- > 0;) p.push_back(static_cast<int64_t>(a));
  if (p.size() != rank) im.fail("perm does not fit the input's rank");
  Perm pinv(rank, -1);
  Shape out(rank);
  for (size_t j = 0; j < rank; ++j) {
    const auto a = static_cast<size_t>(normal_axis(im, p[j], rank));
    if (pinv[a] != -1) im.fail("perm repeats an axis");
    pinv[a] = static_cast<int>(j);
    out[j] = x.shape[a];
  }
  if (x.is_const) {
    Perm as_perm;
    for (int64_t a : p) as_perm.push_back(static_cast<int>(normal_axis(im, a, rank)));
    Value r;
    r.shape = out;
    r.is_float = x.is_float;
    if (x.is_float) {
      r.f = permute(x.f, x.shape, as_perm);
    } else {
      std::vector<float> idx(x.i.size());
      for (size_t k = 0; k < idx.size(); ++k) idx[k] = static_cast<float>(k);
      for (float k : permute(idx, x.shape, as_perm)) r.i.push_back(x.i[static_cast<size_t>(k)]);
    }
    im.set_const_output(0, std::move(r));
    im.count_folded();
    return;
  }
  // No data moves: the same bytes, relabelled. Physical axis k held logical axis q[k] of the
  // input, which is logical axis pinv[q[k]] of the output.
  const Perm q = order_or_identity(x.perm, rank);
  Value v = x;
  v.shape = out;
  v.perm.clear();
  for (int l : q) v.perm.push_back(pinv[static_cast<size_t>(l)]);
  im.set_alias_output(0, v);
  im.count_folded();
}

void convert_concat(Importer& im) {
  const int n = im.node().input_size();
  if (n == 0) im.fail("has no inputs");
  const Value& first = im.in(0);
  const size_t rank = first.shape.size();
  const auto axis = static_cast<size_t>(normal_axis(im, im.attr_int("axis", 0), rank));
  bool all_const = true;
  Shape out = first.shape;
  out[axis] = 0;
  for (int i = 0; i < n; ++i) {
    const Value& v = im.in(i);
    all_const = all_const && v.is_const;
    if (v.shape.size() != rank) im.fail("inputs differ in rank");
    for (size_t a = 0; a < rank; ++a) {
      if (a != axis && v.shape[a] != first.shape[a]) im.fail("inputs differ off the axis");
    }
    out[axis] += v.shape[axis];
  }
  if (all_const) {  // shapes being built: slices of the result, input after input
    im.check_size(out, "the concatenation");
    Value r;
    r.shape = out;
    r.is_float = first.is_float;
    int64_t outer = 1;
    for (size_t a = 0; a < axis; ++a) outer *= out[a];
    for (int64_t o = 0; o < outer; ++o) {
      for (int i = 0; i < n; ++i) {
        const Value& v = im.in(i);
        int64_t inner = 1;
        for (size_t a = axis; a < rank; ++a) inner *= v.shape[a];
        for (int64_t k = 0; k < inner; ++k) {
          const auto at = static_cast<size_t>(o * inner + k);
          if (r.is_float) {
            r.f.push_back(v.is_float ? v.f[at] : static_cast<float>(v.i[at]));
          } else {
            r.i.push_back(v.is_float ? static_cast<int64_t>(v.f[at]) : v.i[at]);
          }
        }
      }
    }
    im.set_const_output(0, std::move(r));
    im.count_folded();
    return;
  }
  std::vector<const Value*> operands;
  for (int i = 0; i < n; ++i) operands.push_back(&im.in(i));
  const Perm perm = operand_order(operands, rank);
  std::vector<int32_t> inputs;
  for (int i = 0; i < n; ++i) inputs.push_back(im.tensor_in(i, perm));
  const auto act = im.take_activation(0);
  const int y = im.new_output(0, out, perm);
  tflite::ConcatenationOptionsT o;
  o.axis = static_cast<int32_t>(std::find(perm.begin(), perm.end(), static_cast<int>(axis)) -
                                perm.begin());
  o.fused_activation_function = act;
  tflite::BuiltinOptionsUnion u;
  u.Set(std::move(o));
  im.emit().op(tflite::BuiltinOperator_CONCATENATION, inputs, {y}, std::move(u));
}

void convert_split(Importer& im) {
  const Value& x = im.in(0);
  const size_t rank = x.shape.size();
  const auto axis = static_cast<size_t>(normal_axis(im, im.attr_int("axis", 0), rank));
  const int parts = im.node().output_size();
  std::vector<int64_t> sizes = im.has_input(1) ? im.const_ints(1) : im.attr_ints("split");
  if (sizes.empty()) {
    if (x.shape[axis] % parts != 0) im.fail("the axis does not split into equal parts");
    sizes.assign(static_cast<size_t>(parts), x.shape[axis] / parts);
  }
  int64_t total = 0;
  for (int64_t s : sizes) {
    if (s < 0 || s > x.shape[axis]) im.fail("a split size is negative or larger than the axis");
    total += s;
  }
  if (static_cast<int>(sizes.size()) != parts || total != x.shape[axis]) {
    im.fail("the split sizes do not fit the axis");
  }
  if (x.is_const) {
    int64_t offset = 0;
    for (int k = 0; k < parts; ++k) {
      std::vector<int64_t> start(rank, 0), step(rank, 1);
      start[axis] = offset;
      Shape out = x.shape;
      out[axis] = sizes[static_cast<size_t>(k)];
      im.set_const_output(k, slice_const(x, start, step, out));
      offset += sizes[static_cast<size_t>(k)];
    }
    im.count_folded();
    return;
  }
  const Perm perm = order_or_identity(x.perm, rank);
  const int xt = im.tensor_in(0, perm);
  const std::string name = im.output_name(0);
  std::vector<int32_t> outputs, size_splits;
  for (int k = 0; k < parts; ++k) {
    Shape out = x.shape;
    out[axis] = sizes[static_cast<size_t>(k)];
    outputs.push_back(im.new_output(k, out, perm));
    size_splits.push_back(static_cast<int32_t>(sizes[static_cast<size_t>(k)]));
  }
  const auto physical_axis = static_cast<int32_t>(
      std::find(perm.begin(), perm.end(), static_cast<int>(axis)) - perm.begin());
  tflite::SplitVOptionsT o;
  o.num_splits = parts;
  tflite::BuiltinOptionsUnion u;
  u.Set(std::move(o));
  im.emit().op(
      tflite::BuiltinOperator_SPLIT_V,
      {xt, im.const_i32(name + "/size_splits", size_splits),
       im.emit().constant_i32(im.fresh(name + "/axis"), {}, std::vector<int32_t>{physical_axis})},
      outputs, std::move(u));
}

void convert_slice(Importer& im) {
  const Value& x = im.in(0);
  const size_t rank = x.shape.size();
  const auto starts = im.const_ints(1), ends = im.const_ints(2);
  std::vector<int64_t> axes = im.has_input(3) ? im.const_ints(3) : std::vector<int64_t>{};
  std::vector<int64_t> steps = im.has_input(4) ? im.const_ints(4) : std::vector<int64_t>{};
  if (axes.empty())
    for (size_t a = 0; a < starts.size(); ++a) axes.push_back(static_cast<int64_t>(a));
  if (steps.empty()) steps.assign(starts.size(), 1);
  if (ends.size() != starts.size() || axes.size() != starts.size() ||
      steps.size() != starts.size()) {
    im.fail("starts, ends, axes and steps differ in length");
  }
  std::vector<int64_t> begin(rank, 0), step(rank, 1);
  Shape out = x.shape;
  std::vector<bool> to_start(rank, false);  // a negative step that runs past index 0
  for (size_t k = 0; k < starts.size(); ++k) {
    const auto a = static_cast<size_t>(normal_axis(im, axes[k], rank));
    const int64_t dim = x.shape[a];
    if (steps[k] == 0) im.fail("a step is 0");
    // A step longer than the axis takes one element, as a step of the axis' length does.
    const int64_t s = steps[k] > 0 ? std::min(steps[k], std::max<int64_t>(dim, 1))
                                   : std::max(steps[k], -std::max<int64_t>(dim, 1));
    auto clamp = [&](int64_t v, bool is_end) {
      if (v < 0) v += dim;
      if (s > 0) return std::clamp<int64_t>(v, 0, dim);
      return std::clamp<int64_t>(v, is_end ? -1 : 0, dim - 1);
    };
    const int64_t b = clamp(starts[k], false), e = clamp(ends[k], true);
    begin[a] = b;
    step[a] = s;
    out[a] = s > 0 ? std::max<int64_t>((e - b + s - 1) / s, 0)
                   : std::max<int64_t>((b - e + (-s) - 1) / (-s), 0);
    to_start[a] = s < 0 && b + out[a] * s < 0;  // TFLite would read a negative end from the back
  }
  if (x.is_const) {
    im.set_const_output(0, slice_const(x, begin, step, out));
    im.count_folded();
    return;
  }
  const Perm perm = order_or_identity(x.perm, rank);
  const int xt = im.tensor_in(0, perm);
  const std::string name = im.output_name(0);
  std::vector<int32_t> b32, e32, s32;
  int32_t end_mask = 0;
  for (size_t k = 0; k < rank; ++k) {
    const auto a = static_cast<size_t>(perm[k]);
    b32.push_back(static_cast<int32_t>(begin[a]));
    e32.push_back(static_cast<int32_t>(begin[a] + out[a] * step[a]));
    s32.push_back(static_cast<int32_t>(step[a]));
    if (to_start[a]) end_mask |= 1 << k;
  }
  const int y = im.new_output(0, out, perm);
  tflite::StridedSliceOptionsT o;
  o.end_mask = end_mask;
  tflite::BuiltinOptionsUnion u;
  u.Set(std::move(o));
  im.emit().op(tflite::BuiltinOperator_STRIDED_SLICE,
               {xt, im.const_i32(name + "/begin", b32), im.const_i32(name + "/end", e32),
                im.const_i32(name + "/strides", s32)},
               {y}, std::move(u));
}

void convert_identity(Importer& im) {
  if (im.node().op_type() == "Dropout" && im.node().output_size() > 1 &&
      !im.node().output(1).empty() && im.sole_consumer(1)) {
    im.fail("Dropout's mask output is not supported");
  }
  im.set_alias_output(0, im.in(0));
  im.count_folded();
}

void convert_constant(Importer& im) {
  const auto& attrs = im.node().attribute();
  if (attrs.size() != 1) im.fail("needs exactly one value attribute");
  const auto& a = attrs[0];
  Value v;
  v.is_const = true;
  if (a.name() == "value") {
    v = tensor_value(a.t(), im.file());
  } else if (a.name() == "value_float") {
    v.f = {a.f()};
  } else if (a.name() == "value_floats") {
    v.f.assign(a.floats().begin(), a.floats().end());
    v.shape = {static_cast<int64_t>(v.f.size())};
  } else if (a.name() == "value_int") {
    v.is_float = false;
    v.i = {a.i()};
  } else if (a.name() == "value_ints") {
    v.is_float = false;
    v.i.assign(a.ints().begin(), a.ints().end());
    v.shape = {static_cast<int64_t>(v.i.size())};
  } else {
    im.fail("the '" + a.name() + "' attribute is not supported");
  }
  im.set_const_output(0, std::move(v));
  im.count_folded();
}

void convert_shape(Importer& im) {
  const Value& x = im.in(0);
  const auto rank = static_cast<int64_t>(x.shape.size());
  int64_t start = im.attr_int("start", 0), end = im.attr_int("end", rank);
  if (start < 0) start += rank;
  if (end < 0) end += rank;
  start = std::clamp<int64_t>(start, 0, rank);
  end = std::clamp<int64_t>(end, start, rank);
  Value v;
  v.is_float = false;
  v.i.assign(x.shape.begin() + start, x.shape.begin() + end);
  v.shape = {end - start};
  im.set_const_output(0, std::move(v));
  im.count_folded();
}

void convert_gather(Importer& im) {
  const Value& data = im.in(0);
  const Value& indices = im.in(1);
  if (!data.is_const || !indices.is_const) {
    im.fail("Gather is imported only on constants (shape arithmetic)");
  }
  const size_t rank = data.shape.size();
  const auto axis = static_cast<size_t>(normal_axis(im, im.attr_int("axis", 0), rank));
  const auto idx = im.const_ints(1);
  int64_t outer = 1, inner = 1;
  for (size_t a = 0; a < axis; ++a) outer *= data.shape[a];
  for (size_t a = axis + 1; a < rank; ++a) inner *= data.shape[a];
  const int64_t dim = data.shape[axis];
  Value r;
  r.is_float = data.is_float;
  r.shape.assign(data.shape.begin(), data.shape.begin() + static_cast<ptrdiff_t>(axis));
  r.shape.insert(r.shape.end(), indices.shape.begin(), indices.shape.end());
  r.shape.insert(r.shape.end(), data.shape.begin() + static_cast<ptrdiff_t>(axis) + 1,
                 data.shape.end());
  im.check_size(r.shape, "the gathered constant");
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t j : idx) {
      if (j < 0) j += dim;
      if (j < 0 || j >= dim) im.fail("an index is out of range");
      for (int64_t k = 0; k < inner; ++k) {
        const auto at = static_cast<size_t>((o * dim + j) * inner + k);
        if (r.is_float) {
          r.f.push_back(data.f[at]);
        } else {
          r.i.push_back(data.i[at]);
        }
      }
    }
  }
  im.set_const_output(0, std::move(r));
  im.count_folded();
}

void convert_cast(Importer& im) {
  const Value& x = im.in(0);
  const int64_t to = im.attr_int("to", 0);
  const bool to_float = to == onnx::TensorProto::FLOAT || to == onnx::TensorProto::DOUBLE ||
                        to == onnx::TensorProto::FLOAT16;
  if (!x.is_const) {
    if (!to_float) im.fail("casting an activation to a non-float type is not supported");
    convert_identity(im);
    return;
  }
  Value r;
  r.shape = x.shape;
  r.is_float = to_float;
  if (to_float) {
    r.f = x.is_float ? x.f : std::vector<float>(x.i.begin(), x.i.end());
  } else {
    for (float f : x.f) r.i.push_back(static_cast<int64_t>(f));
    if (!x.is_float) r.i = x.i;
    if (to == onnx::TensorProto::BOOL)
      for (int64_t& v : r.i) v = v != 0;
  }
  im.set_const_output(0, std::move(r));
  im.count_folded();
}

void convert_constant_of_shape(Importer& im) {
  const auto shape = im.const_ints(0);
  Value r;
  r.shape.assign(shape.begin(), shape.end());
  im.check_size(r.shape, "the constant");
  const auto n = static_cast<size_t>(element_count(r.shape));
  r.f.assign(n, 0.0f);
  for (const auto& a : im.node().attribute()) {
    if (a.name() != "value") continue;
    const Value v = tensor_value(a.t(), im.file());
    if ((v.is_float ? v.f.size() : v.i.size()) != 1) im.fail("the value must be one element");
    r.is_float = v.is_float;
    if (v.is_float) {
      r.f.assign(n, v.f.at(0));
    } else {
      r.f.clear();
      r.i.assign(n, v.i.at(0));
    }
  }
  im.set_const_output(0, std::move(r));
  im.count_folded();
}

Converter find_converter(const std::string& op_type) {
  static const std::map<std::string, Converter> converters = {
      {"Add", &convert_binary},
      {"AveragePool", &convert_average_pool},
      {"BatchNormalization", &convert_batch_norm},
      {"Cast", &convert_cast},
      {"Clip", &convert_clip},
      {"Concat", &convert_concat},
      {"Constant", &convert_constant},
      {"ConstantOfShape", &convert_constant_of_shape},
      {"Conv", &convert_conv},
      {"ConvTranspose", &convert_conv_transpose},
      {"Div", &convert_binary},
      {"Dropout", &convert_identity},
      {"Flatten", &convert_reshape},
      {"Gather", &convert_gather},
      {"Gemm", &convert_gemm},
      {"GlobalAveragePool", &convert_global_pool},
      {"GlobalMaxPool", &convert_global_pool},
      {"HardSigmoid", &convert_hard_sigmoid},
      {"HardSwish", &convert_unary},
      {"Identity", &convert_identity},
      {"LeakyRelu", &convert_unary},
      {"MatMul", &convert_matmul},
      {"MaxPool", &convert_max_pool},
      {"Mul", &convert_binary},
      {"Pad", &convert_pad},
      {"PRelu", &convert_prelu},
      {"ReduceMax", &convert_reduce_mean},
      {"ReduceMean", &convert_reduce_mean},
      {"Relu", &convert_unary},
      {"Reshape", &convert_reshape},
      {"Resize", &convert_resize},
      {"Shape", &convert_shape},
      {"Sigmoid", &convert_unary},
      {"Slice", &convert_slice},
      {"Softmax", &convert_softmax},
      {"Split", &convert_split},
      {"Squeeze", &convert_reshape},
      {"Sub", &convert_binary},
      {"Tanh", &convert_unary},
      {"Transpose", &convert_transpose},
      {"Unsqueeze", &convert_reshape},
      {"Upsample", &convert_resize},
  };
  const auto it = converters.find(op_type);
  return it == converters.end() ? nullptr : it->second;
}

}  // namespace pipecut::onnx_import
