// Element-wise ops (Add, Sub, Mul, Div, Relu, Sigmoid, Tanh, HardSwish, LeakyRelu, Clip,
// HardSigmoid, PRelu), Softmax and ReduceMean. Element-wise ops compute in whatever order the
// data is in: constants are rearranged to match, so no TRANSPOSE is needed around them.
#include <algorithm>
#include <cmath>
#include <limits>

#include "onnx/layout_rules.h"

namespace pipecut::onnx_import {

namespace {

Shape broadcast_shape(Importer& im, const Shape& a, const Shape& b) {
  Shape out(std::max(a.size(), b.size()), 1);
  for (size_t k = 0; k < out.size(); ++k) {
    const int64_t da = k < out.size() - a.size() ? 1 : a[k - (out.size() - a.size())];
    const int64_t db = k < out.size() - b.size() ? 1 : b[k - (out.size() - b.size())];
    if (da != db && da != 1 && db != 1) im.fail("the operands' shapes do not broadcast");
    out[k] = std::max(da, db);
  }
  return out;
}

// Index into a right-aligned, broadcast operand for the output's flat index.
int64_t source_index(const Shape& out, const Shape& in, int64_t flat) {
  int64_t index = 0, stride = 1;
  for (size_t k = out.size(); k-- > 0;) {
    const int64_t coord = flat % out[k];
    flat /= out[k];
    const size_t offset = out.size() - in.size();
    if (k >= offset) {
      const int64_t d = in[k - offset];
      if (d != 1) index += coord * stride;
      stride *= d;
    }
  }
  return index;
}

template <typename T, typename F>
std::vector<T> fold(const Shape& out, const Shape& sa, const std::vector<T>& a, const Shape& sb,
                    const std::vector<T>& b, F f) {
  std::vector<T> r(static_cast<size_t>(element_count(out)));
  for (int64_t n = 0; n < static_cast<int64_t>(r.size()); ++n) {
    r[static_cast<size_t>(n)] = f(a[static_cast<size_t>(source_index(out, sa, n))],
                                  b[static_cast<size_t>(source_index(out, sb, n))]);
  }
  return r;
}

int operand(Importer& im, int i, size_t rank, const Perm& perm) {
  const Value& v = im.in(i);
  if (v.is_const) {
    return broadcast_const(im, im.input_name(i), v.shape, float_values(v), rank, perm);
  }
  if (v.shape.size() == rank) return im.tensor_in(i, perm);
  if (perm == identity_perm(rank)) return im.tensor_in(i, identity_perm(v.shape.size()));
  im.fail("a lower-rank activation broadcast against reordered data is not supported");
}

tflite::BuiltinOptionsUnion activation_options(tflite::BuiltinOperator code,
                                               tflite::ActivationFunctionType act) {
  tflite::BuiltinOptionsUnion u;
  switch (code) {
    case tflite::BuiltinOperator_ADD: {
      tflite::AddOptionsT o;
      o.fused_activation_function = act;
      u.Set(std::move(o));
      break;
    }
    case tflite::BuiltinOperator_SUB: {
      tflite::SubOptionsT o;
      o.fused_activation_function = act;
      u.Set(std::move(o));
      break;
    }
    case tflite::BuiltinOperator_MUL: {
      tflite::MulOptionsT o;
      o.fused_activation_function = act;
      u.Set(std::move(o));
      break;
    }
    default: {
      tflite::DivOptionsT o;
      o.fused_activation_function = act;
      u.Set(std::move(o));
      break;
    }
  }
  return u;
}

void unary_op(Importer& im, tflite::BuiltinOperator code,
              tflite::BuiltinOptionsUnion options = {}) {
  const Value& x = im.in(0);
  if (x.is_const) im.fail("an element-wise op on a constant is not supported");
  const Perm perm = x.perm;
  const int xt = im.tensor_in(0, perm);
  const int y = im.new_output(0, x.shape, perm);
  im.emit().op(code, {xt}, {y}, std::move(options));
}

}  // namespace

void convert_binary(Importer& im) {
  const std::string& type = im.node().op_type();
  const Value& a = im.in(0);
  const Value& b = im.in(1);
  const Shape out = broadcast_shape(im, a.shape, b.shape);
  if (a.is_const && b.is_const) {  // shape arithmetic and constant expressions
    im.check_size(out, "the folded constant");
    Value r;
    r.shape = out;
    if (!a.is_float && !b.is_float) {
      r.is_float = false;
      r.i = fold<int64_t>(out, a.shape, a.i, b.shape, b.i, [&](int64_t p, int64_t q) -> int64_t {
        if (type == "Add") return p + q;
        if (type == "Sub") return p - q;
        if (type == "Mul") return p * q;
        if (q == 0) im.fail("divides by zero");
        if (p == std::numeric_limits<int64_t>::min() && q == -1) im.fail("overflows int64");
        return p / q;
      });
    } else {
      r.f = fold<float>(out, a.shape, float_values(a), b.shape, float_values(b),
                        [&](float p, float q) {
                          if (type == "Add") return p + q;
                          if (type == "Sub") return p - q;
                          if (type == "Mul") return p * q;
                          return p / q;
                        });
    }
    im.set_const_output(0, std::move(r));
    im.count_folded();
    return;
  }
  const tflite::BuiltinOperator code = type == "Add"   ? tflite::BuiltinOperator_ADD
                                       : type == "Sub" ? tflite::BuiltinOperator_SUB
                                       : type == "Mul" ? tflite::BuiltinOperator_MUL
                                                       : tflite::BuiltinOperator_DIV;
  const size_t rank = out.size();
  const Perm perm = operand_order({&a, &b}, rank);
  const int at = operand(im, 0, rank, perm);
  const int bt = operand(im, 1, rank, perm);
  const auto act = im.take_activation(0);
  const int y = im.new_output(0, out, perm);
  im.emit().op(code, {at, bt}, {y}, activation_options(code, act));
}

void convert_unary(Importer& im) {
  const std::string& type = im.node().op_type();
  if (type == "Relu") return unary_op(im, tflite::BuiltinOperator_RELU);
  if (type == "Sigmoid") return unary_op(im, tflite::BuiltinOperator_LOGISTIC);
  if (type == "Tanh") return unary_op(im, tflite::BuiltinOperator_TANH);
  if (type == "HardSwish") return unary_op(im, tflite::BuiltinOperator_HARD_SWISH);
  if (type == "LeakyRelu") {
    tflite::LeakyReluOptionsT o;
    o.alpha = im.attr_float("alpha", 0.01f);
    tflite::BuiltinOptionsUnion u;
    u.Set(std::move(o));
    return unary_op(im, tflite::BuiltinOperator_LEAKY_RELU, std::move(u));
  }
  im.fail("not an element-wise op pipecut imports");
}

void convert_clip(Importer& im) {
  const Value& x = im.in(0);
  float lo = -std::numeric_limits<float>::infinity(), hi = std::numeric_limits<float>::infinity();
  auto scalar = [&](int i) {
    const auto v = im.const_floats(i);
    if (v.size() != 1) im.fail("min and max must be scalars");
    return v[0];
  };
  if (im.has_input(1)) lo = scalar(1);
  if (im.has_input(2)) hi = scalar(2);
  if (lo == 0.0f && hi == 6.0f) return unary_op(im, tflite::BuiltinOperator_RELU6);
  if (lo == 0.0f && std::isinf(hi)) return unary_op(im, tflite::BuiltinOperator_RELU);
  if (lo == -1.0f && hi == 1.0f) return unary_op(im, tflite::BuiltinOperator_RELU_N1_TO_1);
  if (x.is_const) im.fail("clipping a constant is not supported");
  const std::string name = im.output_name(0);
  const Perm perm = x.perm;
  int t = im.tensor_in(0, perm);
  const size_t rank = x.shape.size();
  const Shape phys = physical_shape(x.shape, perm.empty() ? identity_perm(rank) : perm);
  auto bound = [&](tflite::BuiltinOperator code, float v, bool last) {
    const int c =
        broadcast_const(im, name + (code == tflite::BuiltinOperator_MAXIMUM ? "/min" : "/max"), {},
                        {v}, rank, perm);
    const int y = last ? im.new_output(0, x.shape, perm)
                       : im.emit().activation(im.aux("low_clipped"),
                                              std::vector<int32_t>(phys.begin(), phys.end()));
    im.emit().op(code, {t, c}, {y});
    t = y;
  };
  if (!std::isinf(lo)) bound(tflite::BuiltinOperator_MAXIMUM, lo, std::isinf(hi));
  if (!std::isinf(hi)) bound(tflite::BuiltinOperator_MINIMUM, hi, true);
  if (std::isinf(lo) && std::isinf(hi)) convert_identity(im);
}

void convert_hard_sigmoid(Importer& im) {
  const Value& x = im.in(0);
  if (x.is_const) im.fail("an element-wise op on a constant is not supported");
  const float alpha = im.attr_float("alpha", 0.2f), beta = im.attr_float("beta", 0.5f);
  // x * HardSigmoid(x) with PyTorch's constants is HardSwish (opset < 14 exports it so).
  const onnx::NodeProto* mul = im.sole_consumer(0);
  if (mul && mul->op_type() == "Mul" && (mul->domain().empty() || mul->domain() == "ai.onnx") &&
      std::abs(alpha - 1.0f / 6.0f) < 1e-6f && beta == 0.5f && mul->input_size() == 2 &&
      mul->output_size() == 1) {
    const std::string& self = im.output_name(0);
    const bool ok = (mul->input(0) == im.input_name(0) && mul->input(1) == self) ||
                    (mul->input(1) == im.input_name(0) && mul->input(0) == self);
    if (ok) {
      im.fuse(*mul, 0);
      return unary_op(im, tflite::BuiltinOperator_HARD_SWISH);
    }
  }
  // relu6(6 * alpha * x + 6 * beta) / 6.
  const std::string name = im.output_name(0);
  const Perm perm = x.perm;
  const size_t rank = x.shape.size();
  const int xt = im.tensor_in(0, perm);
  const auto shape = im.emit().shape(xt);
  const int scaled = im.emit().activation(im.aux("scaled"), shape);
  im.emit().op(
      tflite::BuiltinOperator_MUL,
      {xt, broadcast_const(im, name + "/alpha", {}, {6.0f * alpha}, rank, perm)}, {scaled},
      activation_options(tflite::BuiltinOperator_MUL, tflite::ActivationFunctionType_NONE));
  const int shifted = im.emit().activation(im.aux("relu6"), shape);
  im.emit().op(
      tflite::BuiltinOperator_ADD,
      {scaled, broadcast_const(im, name + "/beta", {}, {6.0f * beta}, rank, perm)}, {shifted},
      activation_options(tflite::BuiltinOperator_ADD, tflite::ActivationFunctionType_RELU6));
  const int y = im.new_output(0, x.shape, perm);
  im.emit().op(
      tflite::BuiltinOperator_MUL,
      {shifted, broadcast_const(im, name + "/sixth", {}, {1.0f / 6.0f}, rank, perm)}, {y},
      activation_options(tflite::BuiltinOperator_MUL, tflite::ActivationFunctionType_NONE));
}

void convert_prelu(Importer& im) {
  const Value& x = im.in(0);
  const Value& slope = im.in(1);
  if (x.is_const || !slope.is_const) im.fail("needs an activation and a constant slope");
  const auto s = float_values(slope);
  if (s.size() == 1) {
    tflite::LeakyReluOptionsT o;
    o.alpha = s[0];
    tflite::BuiltinOptionsUnion u;
    u.Set(std::move(o));
    return unary_op(im, tflite::BuiltinOperator_LEAKY_RELU, std::move(u));
  }
  const Perm perm = x.perm;
  const size_t rank = x.shape.size();
  const int xt = im.tensor_in(0, perm);
  const int st = broadcast_const(im, im.input_name(1), slope.shape, s, rank, perm);
  const int y = im.new_output(0, x.shape, perm);
  im.emit().op(tflite::BuiltinOperator_PRELU, {xt, st}, {y});
}

void convert_softmax(Importer& im) {
  const Value& x = im.in(0);
  if (x.is_const) im.fail("a Softmax of a constant is not supported");
  const auto rank = static_cast<int64_t>(x.shape.size());
  int64_t axis = im.attr_int("axis", -1);
  if (axis < 0) axis += rank;
  if (axis < 0 || axis >= rank) im.fail("axis out of range");
  // TFLite's SOFTMAX works along the last axis of the data as stored.
  Perm perm = x.perm.empty() ? identity_perm(x.shape.size()) : x.perm;
  if (perm.back() != axis) perm = identity_perm(x.shape.size());
  if (perm.back() != axis) {
    im.fail("softmax along an axis that is not the last one is not supported");
  }
  const int xt = im.tensor_in(0, perm);
  const int y = im.new_output(0, x.shape, perm);
  tflite::SoftmaxOptionsT o;
  o.beta = 1.0f;
  tflite::BuiltinOptionsUnion u;
  u.Set(std::move(o));
  im.emit().op(tflite::BuiltinOperator_SOFTMAX, {xt}, {y}, std::move(u));
}

void convert_reduce_mean(Importer& im) {
  const Value& x = im.in(0);
  if (x.is_const) im.fail("reducing a constant is not supported");
  const auto rank = static_cast<int64_t>(x.shape.size());
  std::vector<int64_t> axes = im.attr_ints("axes");
  if (axes.empty() && im.has_input(1)) axes = im.const_ints(1);  // opset 18 form
  if (axes.empty())
    for (int64_t a = 0; a < rank; ++a) axes.push_back(a);
  for (int64_t& a : axes) {
    if (a < 0) a += rank;
    if (a < 0 || a >= rank) im.fail("axis out of range");
  }
  const bool keep = im.attr_int("keepdims", 1) != 0;
  const Perm perm = x.perm.empty() ? identity_perm(x.shape.size()) : x.perm;
  std::vector<int32_t> physical_axes;
  for (size_t k = 0; k < perm.size(); ++k) {
    if (std::find(axes.begin(), axes.end(), perm[k]) != axes.end())
      physical_axes.push_back(static_cast<int32_t>(k));
  }
  Shape out;
  Perm out_perm;
  if (keep) {
    out = x.shape;
    for (int64_t a : axes) out[static_cast<size_t>(a)] = 1;
    out_perm = perm;
  } else {
    std::vector<int> kept;  // logical axes left, in logical order
    for (int64_t a = 0; a < rank; ++a) {
      if (std::find(axes.begin(), axes.end(), a) == axes.end()) {
        kept.push_back(static_cast<int>(a));
        out.push_back(x.shape[static_cast<size_t>(a)]);
      }
    }
    for (int l : perm) {  // the kept axes in the order the data holds them, renumbered
      const auto it = std::find(kept.begin(), kept.end(), l);
      if (it != kept.end()) out_perm.push_back(static_cast<int>(it - kept.begin()));
    }
  }
  const std::string name = im.output_name(0);
  const int xt = im.tensor_in(0, perm);
  const int y = im.new_output(0, out, out_perm);
  tflite::ReducerOptionsT o;
  o.keep_dims = keep;
  tflite::BuiltinOptionsUnion u;
  u.Set(std::move(o));
  const std::string& type = im.node().op_type();
  im.emit().op(
      type == "ReduceMax" ? tflite::BuiltinOperator_REDUCE_MAX : tflite::BuiltinOperator_MEAN,
      {xt, im.const_i32(name + "/axes", physical_axes)}, {y}, std::move(u));
}

}  // namespace pipecut::onnx_import
